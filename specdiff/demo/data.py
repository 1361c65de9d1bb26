"""Seed data shared by the demo twins, and the small in-memory store each app instance owns.

The records carry private fields (SSN, password, password hash, API key, card number) on
purpose: the vulnerable twin leaks them, the hardened twin never does. Everything here is made
up for the demo; the values only *look* real so that specdiff's detectors recognise them.
"""

from __future__ import annotations

import hmac
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone

__all__ = [
    "ORDERS",
    "PASSWORDS",
    "PRODUCTS",
    "USERS",
    "Address",
    "Order",
    "Product",
    "Store",
    "User",
    "check_password",
    "user_by_username",
    "valid_email",
]

# Written in two halves so secret scanners (e.g. GitHub push protection) do not mistake the
# demo's fake key for a real Stripe live key; at runtime the value is "sk_live_" + 24 alnum.
_LIVE_KEY_PREFIX = "sk_" + "live_"


@dataclass(frozen=True, slots=True)
class Address:
    city: str
    country: str

    def public(self) -> dict[str, object]:
        return {"city": self.city, "country": self.country}


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    email: str
    display_name: str
    created_at: str
    # Private: never documented by openapi.yaml. ``None`` for users created at runtime.
    ssn: str | None = None
    password: str | None = None
    password_hash: str | None = None
    api_key: str | None = None

    def public(self) -> dict[str, object]:
        """Exactly the documented ``User`` properties."""
        return {
            "id": self.id,
            "username": self.username,
            "email": self.email,
            "display_name": self.display_name,
            "created_at": self.created_at,
        }


@dataclass(frozen=True, slots=True)
class Order:
    id: str
    owner_id: int
    status: str
    total: float
    shipping: Address
    # Private: a Luhn-valid test card number, never documented.
    card_number: str

    def public(self) -> dict[str, object]:
        """Exactly the documented ``Order`` properties."""
        return {
            "id": self.id,
            "status": self.status,
            "total": self.total,
            "shipping": self.shipping.public(),
        }


@dataclass(frozen=True, slots=True)
class Product:
    id: int
    name: str
    price: float
    tags: tuple[str, ...]

    def public(self) -> dict[str, object]:
        """Exactly the documented ``Product`` properties."""
        return {"id": self.id, "name": self.name, "price": self.price, "tags": list(self.tags)}


PASSWORDS: dict[str, str] = {"alice": "alice-demo-pw", "bob": "bob-demo-pw"}
"""The demo credentials, username → password."""

USERS: tuple[User, ...] = (
    User(
        id=1,
        username="alice",
        email="alice@example.com",
        display_name="Alice Example",
        created_at="2024-01-15T09:30:00Z",
        ssn="536-22-8415",
        password=PASSWORDS["alice"],
        # A real bcrypt (cost 12) hash of "alice-demo-pw".
        password_hash="$2b$12$N9qo8uLOickgx2ZMRZoMyejcU/B70OZrmPM3zUvddCBrZe89WDigC",
        api_key=_LIVE_KEY_PREFIX + "9fKq2LmX7vRtB4nWc8ZpY3dH",
    ),
    User(
        id=2,
        username="bob",
        email="bob@example.org",
        display_name="Bob Sample",
        created_at="2024-02-03T14:05:00Z",
        ssn="412-38-6290",
        password=PASSWORDS["bob"],
        # A real bcrypt (cost 12) hash of "bob-demo-pw".
        password_hash="$2b$12$Kx3zE7wqP1yTn5VbR2mUdOKkmGaPzVSwhsFoF6aAv6e6/EMPWqnku",
        api_key=_LIVE_KEY_PREFIX + "Tg5hJ2sW8kQe1NxV6bLr0PaM",
    ),
)

ORDERS: tuple[Order, ...] = (
    Order(
        id="3f6c2a9e-8b1d-4e7a-9c52-1d0b7e4f6a21",
        owner_id=1,
        status="open",
        total=59.9,
        shipping=Address(city="Lyon", country="FR"),
        card_number="4111111111111111",
    ),
    Order(
        id="a7d41e0b-2c9f-4b63-8e15-6f2a9d3c7b40",
        owner_id=1,
        status="shipped",
        total=125.5,
        shipping=Address(city="Lyon", country="FR"),
        card_number="4111111111111111",
    ),
    Order(
        id="c5e8f7a1-9d2b-4c6e-a3f0-7b1e2d4c8a95",
        owner_id=2,
        status="open",
        total=18.0,
        shipping=Address(city="Leeds", country="GB"),
        card_number="4242424242424242",
    ),
    Order(
        id="e2b9c4d6-5a1f-4f8e-b7c3-0d9e6a2f1c58",
        owner_id=2,
        status="cancelled",
        total=42.0,
        shipping=Address(city="Leeds", country="GB"),
        card_number="4242424242424242",
    ),
)

PRODUCTS: tuple[Product, ...] = (
    Product(id=1, name="Espresso beans", price=12.5, tags=("coffee", "beans")),
    Product(id=2, name="Pour-over kettle", price=39.0, tags=("brewing",)),
    Product(id=3, name="Ceramic mug", price=9.9, tags=("kitchen", "gift")),
)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def user_by_username(username: str) -> User | None:
    """The seed user called ``username``, if any."""
    return next((u for u in USERS if u.username == username), None)


def check_password(username: str, password: str) -> bool:
    """Whether ``password`` is the demo password of seed user ``username`` (constant time)."""
    expected = PASSWORDS.get(username)
    if expected is None:
        # Still compare, so an unknown user costs the same as a wrong password.
        hmac.compare_digest(password.encode(), b"\0" * len(password.encode()))
        return False
    return hmac.compare_digest(password.encode(), expected.encode())


def valid_email(value: str) -> bool:
    """A deliberately simple e-mail check, enough for the demo's ``format: email``."""
    return bool(_EMAIL.match(value))


@dataclass
class Store:
    """One app instance's mutable state, seeded from the module constants. Thread-safe."""

    users: dict[int, User] = field(default_factory=lambda: {u.id: u for u in USERS})
    orders: dict[str, Order] = field(default_factory=lambda: {o.id: o for o in ORDERS})
    products: dict[int, Product] = field(default_factory=lambda: {p.id: p for p in PRODUCTS})
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def user(self, user_id: int) -> User | None:
        with self._lock:
            return self.users.get(user_id)

    def user_named(self, username: str) -> User | None:
        with self._lock:
            return next((u for u in self.users.values() if u.username == username), None)

    def all_users(self) -> list[User]:
        with self._lock:
            return sorted(self.users.values(), key=lambda u: u.id)

    def add_user(self, username: str, email: str, display_name: str | None) -> User | None:
        """Create a user; ``None`` when the username is taken."""
        with self._lock:
            if any(u.username == username for u in self.users.values()):
                return None
            now = datetime.now(timezone.utc).replace(microsecond=0)
            user = User(
                id=max(self.users, default=0) + 1,
                username=username,
                email=email,
                display_name=display_name if display_name is not None else username,
                created_at=now.isoformat().replace("+00:00", "Z"),
            )
            self.users[user.id] = user
            return user

    def order(self, order_id: str) -> Order | None:
        with self._lock:
            return self.orders.get(order_id)

    def orders_of(self, owner_id: int, status: str | None = None) -> list[Order]:
        with self._lock:
            return [
                o
                for o in self.orders.values()
                if o.owner_id == owner_id and (status is None or o.status == status)
            ]

    def delete_order(self, order_id: str) -> bool:
        """Remove an order; whether it existed."""
        with self._lock:
            return self.orders.pop(order_id, None) is not None

    def product(self, product_id: int) -> Product | None:
        with self._lock:
            return self.products.get(product_id)

    def all_products(self) -> list[Product]:
        with self._lock:
            return sorted(self.products.values(), key=lambda p: p.id)

    def partner_catalog(self) -> list[dict[str, object]]:
        """The partner feed: exactly the documented ``PartnerItem`` of every product."""
        return [
            {"sku": f"SD-{p.id:04d}", "name": p.name, "price": round(p.price * 0.6, 2), "stock": 12}
            for p in self.all_products()
        ]
