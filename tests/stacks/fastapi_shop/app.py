"""A small shop API written the way FastAPI's tutorial writes one, in two variants.

Its OpenAPI document is the one FastAPI generates (``app.openapi()``); nothing is shaped like
specdiff's demo twins. The vulnerable variant commits sins modelled on public vulnerable APIs
(VAmPI, crAPI, DVWS): objects reachable by ids that only appear in ``/me`` or in the token
(BOLA on objects, lists and objects without personal data), a documented model that does not
filter the answer, an optional-auth dependency that never refuses (on an upload and on a
delete), a route whose 401 the document never mentions, unchecked integers that overflow
SQLite, parameters parsed by hand. The hardened variant keeps every promise.

Both variants run on FastAPI's defaults: 422 validation errors, ``{"detail": "Not Found"}``,
``OAuth2PasswordBearer``'s 401 with ``WWW-Authenticate: Bearer``.
"""

import datetime as dt
import sqlite3
import threading
from typing import Annotated, Any, Literal

import jwt
from fastapi import (
    APIRouter,
    Depends,
    FastAPI,
    File,
    Header,
    HTTPException,
    Path,
    Query,
    Request,
    Response,
    UploadFile,
)
from fastapi.security import OAuth2PasswordBearer, OAuth2PasswordRequestForm
from pydantic import BaseModel

SECRET = "shop-signing-key-7f3e9a1c54d2b8e6"
"""HS256 key of both variants (not a well-known secret: the user passes it as --jwt-secret)."""

ALICE = {"id": 31, "username": "alice", "email": "alice.moreau@shop.test", "pw": "wonderland"}
BOB = {"id": 57, "username": "bob", "email": "bob.keller@shop.test", "pw": "builder"}
PASSWORD_HASH = "$2b$12$KIXQJQ1bHn8dVNqEQmhRAeQkq8VwWcP9pP3sZbGxw0Q0oJ3h5l7yW"

DOCUMENTS = {
    "alice-tax-return-2023": ("Tax return 2023", "Refund expected in May.", {31}),
    "bob-lease-agreement": ("Lease agreement", "Twelve months, renewable.", {57}),
    "staff-handbook": ("Staff handbook", "Be kind to customers.", {31, 57}),
}
ORDERS = {
    "SO-7F3K2": (31, 84.5, "shipped", [("BK-1001", 2)]),
    "SO-9Q4M8": (31, 12.0, "paid", [("MG-2040", 1)]),
    "SO-2B7X1": (57, 230.0, "paid", [("LP-3300", 1)]),
}
ADDRESSES = {
    31: [{"label": "home", "street": "14 Rue des Lilas", "city": "Lyon", "postal_code": "69003"}],
    57: [
        {"label": "home", "street": "8 Harbour Lane", "city": "Bristol", "postal_code": "BS1 5TX"}
    ],
}
PRODUCTS = [(1, "Notebook", 4.5), (2, "Mug", 12.0), (3, "Laptop stand", 39.9)]


def issue_token(user: dict[str, Any], *, minutes: int = 60) -> str:
    """What ``POST /api/auth/token`` issues for ``user``."""
    now = dt.datetime.now(dt.timezone.utc)
    claims = {
        "sub": user["username"],
        "uid": user["id"],
        "exp": now + dt.timedelta(minutes=minutes),
    }
    return jwt.encode(claims, SECRET, algorithm="HS256")


class DocumentRef(BaseModel):
    slug: str
    title: str


class Me(BaseModel):
    id: int
    username: str
    email: str
    documents: list[DocumentRef]


class UserOut(BaseModel):
    id: int
    username: str


class Address(BaseModel):
    label: str
    street: str
    city: str
    postal_code: str


class OrderSummary(BaseModel):
    number: str
    total: float
    status: str


class OrderLine(BaseModel):
    sku: str
    quantity: int


class Order(OrderSummary):
    lines: list[OrderLine]


class Document(BaseModel):
    slug: str
    title: str
    body: str


class Product(BaseModel):
    id: int
    name: str
    price: float


class Token(BaseModel):
    access_token: str
    token_type: str


class Avatar(BaseModel):
    filename: str
    size: int


def _database() -> sqlite3.Connection:
    db = sqlite3.connect(":memory:", check_same_thread=False)
    db.execute("CREATE TABLE product (id INTEGER PRIMARY KEY, name TEXT, price REAL)")
    db.executemany("INSERT INTO product VALUES (?, ?, ?)", PRODUCTS)
    return db


def create_app(
    variant: Literal["vulnerable", "hardened"], log: list[dict[str, Any]] | None = None
) -> FastAPI:
    """The shop API; ``variant`` picks which promises it keeps. Every request it receives is
    appended to ``log``, when given: scheme, method, path, credential and the status it got
    (the fields of ``tests.stacks.targets.LoggedRequest``)."""
    vulnerable = variant == "vulnerable"
    orders_by_number = dict(ORDERS)
    documents = dict(DOCUMENTS)
    users = {u["username"]: u for u in (ALICE, BOB)}
    by_id = {u["id"]: u for u in (ALICE, BOB)}
    db = _database()
    lock = threading.Lock()
    oauth2 = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=not vulnerable)

    def refuse(detail: str = "Could not validate credentials") -> HTTPException:
        return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})

    def current_user(token: Annotated[str | None, Depends(oauth2)]) -> dict[str, Any]:
        if not token:
            raise refuse("Not authenticated")
        try:
            # the vulnerable variant never looked at "exp"
            claims = jwt.decode(
                token,
                SECRET,
                algorithms=["HS256"],
                options={"verify_exp": True, "require": ["exp", "sub"]}
                if not vulnerable
                else {"verify_exp": False},
            )
        except jwt.PyJWTError as exc:
            raise refuse(
                f"Invalid token: {exc}" if vulnerable else "Could not validate credentials"
            ) from None
        user = users.get(claims.get("sub", ""))
        if user is None:
            raise refuse()
        return user

    def optional_user(token: Annotated[str | None, Depends(oauth2)]) -> dict[str, Any] | None:
        """Meant for pages that greet a signed-in user; the vulnerable variant uses it where
        sign-in is required and never refuses."""
        return current_user(token) if token else None

    User = Annotated[dict[str, Any], Depends(current_user)]
    unauthorized = {401: {"description": "Not authenticated"}}
    app = FastAPI(title="Shop API", version="1.4.0")
    api = APIRouter(prefix="/api")
    secured = APIRouter(prefix="/api", responses=unauthorized)

    @app.middleware("http")
    async def no_store(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        response.headers["Cache-Control"] = "no-store"
        if log is not None:
            log.append(
                {
                    "scheme": request.url.scheme,
                    "method": request.method,
                    "path": request.url.path,
                    "authorization": request.headers.get("authorization"),
                    "cookie": request.headers.get("cookie"),
                    "status": response.status_code,
                }
            )
        return response

    @api.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @api.post("/auth/token")
    def login(form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token:
        user = users.get(form.username)
        if user is None or form.password != user["pw"]:
            raise HTTPException(400, "Incorrect username or password")
        return Token(access_token=issue_token(user), token_type="bearer")

    @secured.get("/users/me")
    def me(user: User) -> Me:
        docs = [
            DocumentRef(slug=s, title=t)
            for s, (t, _, owners) in documents.items()
            if user["id"] in owners
        ]
        return Me(id=user["id"], username=user["username"], email=user["email"], documents=docs)

    def owned_user(user_id: int, user: dict[str, Any]) -> dict[str, Any]:
        found = by_id.get(user_id)
        if found is None or (not vulnerable and found["id"] != user["id"]):
            raise HTTPException(404, "User not found")
        return found

    if vulnerable:  # documents the model, returns the row: FastAPI filters only response_model

        @secured.get("/users/{user_id}", responses={200: {"model": UserOut}})
        def get_user(user_id: int, user: User) -> Any:
            found = owned_user(user_id, user)
            return {
                "id": found["id"],
                "username": found["username"],
                "email": found["email"],
                "hashed_password": PASSWORD_HASH,
            }

    else:

        @secured.get("/users/{user_id}", response_model=UserOut)
        def get_user(user_id: int, user: User) -> Any:
            return owned_user(user_id, user)

    @secured.get("/users/{user_id}/addresses")
    def addresses(user_id: int, user: User) -> list[Address]:
        found = owned_user(user_id, user)
        return [Address(**a) for a in ADDRESSES[found["id"]]]

    @secured.get("/orders")
    def orders(user: User) -> list[OrderSummary]:
        return [
            OrderSummary(number=n, total=t, status=s)
            for n, (o, t, s, _) in orders_by_number.items()
            if o == user["id"]
        ]

    export_header = {
        "parameters": [
            {
                "name": "X-Export-Format",
                "in": "header",
                "required": True,
                "schema": {"type": "string", "enum": ["csv", "json"]},
            }
        ]
    }

    if vulnerable:  # reads the header by hand: a missing one is a KeyError, a 500

        @secured.get("/orders/export", openapi_extra=export_header)
        def export(request: Request, user: User) -> dict[str, Any]:
            kind = request.headers["x-export-format"]
            return {
                "format": kind,
                "count": sum(1 for o, *_ in orders_by_number.values() if o == user["id"]),
            }

    else:

        @secured.get("/orders/export")
        def export(
            user: User, x_export_format: Annotated[Literal["csv", "json"], Header()]
        ) -> dict[str, Any]:
            return {
                "format": x_export_format,
                "count": sum(1 for o, *_ in orders_by_number.values() if o == user["id"]),
            }

    @secured.get("/orders/{order_number}")
    def order(order_number: str, user: User) -> Order:
        found = orders_by_number.get(order_number)
        if found is None or (not vulnerable and found[0] != user["id"]):
            raise HTTPException(404, "Order not found")
        _owner, total, status, lines = found
        return Order(
            number=order_number,
            total=total,
            status=status,
            lines=[OrderLine(sku=s, quantity=q) for s, q in lines],
        )

    if vulnerable:  # optional auth again: an anonymous caller's delete goes through

        @secured.delete("/orders/{order_number}", status_code=204)
        def cancel_order(order_number: str, user: Annotated[Any, Depends(optional_user)]) -> None:
            found = orders_by_number.get(order_number)
            if found is None or (user is not None and found[0] != user["id"]):
                raise HTTPException(404, "Order not found")
            del orders_by_number[order_number]

    else:

        @secured.delete("/orders/{order_number}", status_code=204)
        def cancel_order(order_number: str, user: User) -> None:
            found = orders_by_number.get(order_number)
            if found is None or found[0] != user["id"]:
                raise HTTPException(404, "Order not found")
            del orders_by_number[order_number]

    # vulnerable: on the open router, so the document never mentions the 401 it answers
    @(api if vulnerable else secured).delete("/documents/{slug}", status_code=204)
    def delete_document(slug: str, user: User) -> None:
        found = documents.get(slug)
        if found is None or user["id"] not in found[2]:
            raise HTTPException(404, "Document not found")
        del documents[slug]

    @secured.get("/documents/{slug}")
    def document(slug: str, user: User) -> Document:
        found = documents.get(slug)
        if found is None or (not vulnerable and user["id"] not in found[2]):
            raise HTTPException(404, "Document not found")
        return Document(slug=slug, title=found[0], body=found[1])

    if vulnerable:  # takes the date as text and parses it by hand: a bad one is a 500

        @secured.get("/reports/daily")
        def daily(
            day: Annotated[str, Query(json_schema_extra={"format": "date"})], user: User
        ) -> dict[str, Any]:
            when = dt.date.fromisoformat(day)
            return {"day": when.isoformat(), "orders": 0}

    else:

        @secured.get("/reports/daily")
        def daily(day: dt.date, user: User) -> dict[str, Any]:
            return {"day": day.isoformat(), "orders": 0}

    @api.get("/products")
    def products() -> list[Product]:
        with lock:
            rows = db.execute("SELECT id, name, price FROM product").fetchall()
        return [Product(id=i, name=n, price=p) for i, n, p in rows]

    ProductId = Annotated[int, Path()] if vulnerable else Annotated[int, Path(ge=1, le=2**31 - 1)]

    @api.get("/products/{product_id}")
    def product(product_id: ProductId) -> Product:
        with lock:  # an int past SQLite's 64 bits is an OverflowError: a 500 unless bounded
            row = db.execute(
                "SELECT id, name, price FROM product WHERE id = ?", (product_id,)
            ).fetchone()
        if row is None:
            raise HTTPException(404, "Product not found")
        return Product(id=row[0], name=row[1], price=row[2])

    if vulnerable:  # optional auth where sign-in is required: anonymous uploads go through

        @secured.post("/users/me/avatar", status_code=201)
        async def avatar(
            file: Annotated[UploadFile, File()], user: Annotated[Any, Depends(optional_user)]
        ) -> Avatar:
            data = await file.read()
            return Avatar(filename=file.filename or "", size=len(data))

    else:

        @secured.post("/users/me/avatar", status_code=201)
        async def avatar(file: Annotated[UploadFile, File()], user: User) -> Avatar:
            data = await file.read()
            return Avatar(filename=file.filename or "", size=len(data))

    app.include_router(api)
    app.include_router(secured)
    return app
