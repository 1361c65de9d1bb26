// A small notes-and-orders API written the way Express projects are: express.json(),
// a JWT middleware, routers, and Express's own defaults for 404s and errors.
//
// VARIANT=vulnerable (the default) commits sins modelled on public vulnerable Node APIs
// (DVWS-node, crAPI): objects reached by ids that only appear in the token's claims or in
// another object's answer, served to any signed-in user (BOLA on users, lists, orders, notes
// and passphrases), a required query parameter read without a check, an unbounded number
// handed to crypto, CORS reflecting any origin with credentials, Express's development
// error pages, a delete route that forgot its authentication middleware, no HSTS, and a
// plain-HTTP listener that redirects every method with res.redirect's 302. VARIANT=hardened
// keeps every promise of openapi.yaml.
//
// Usage: PORT=0 VARIANT=hardened node app.js   (prints "listening on PORT" once bound)
// With TLS_CERT and TLS_KEY (PEM files) it serves HTTPS on PORT and a plain-HTTP redirector
// on a port of its own (prints "listening on PORT HTTP_PORT"). With REQUEST_LOG, every request
// it receives is appended there as a JSON line (scheme, method, path, authorization, status).
"use strict";

const crypto = require("node:crypto");
const fs = require("node:fs");
const http = require("node:http");
const https = require("node:https");
const cors = require("cors");
const express = require("express");
const jwt = require("jsonwebtoken");

const VARIANT = process.env.VARIANT || "vulnerable";
const vulnerable = VARIANT === "vulnerable";
const SECRET = process.env.JWT_SECRET || "notes-signing-key-4b8d1e7a93c2f605";

const USERS = [
  { id: 7, username: "alice", email: "alice.moreau@notes.test", password: "$2b$10$Q9wQyQ0aQ1dV8i7h3w2tBeW0Q2z3k5u7m9o1q3s5u7w9y1a3c5e7g", passphrase: "blue heron at dawn" },
  { id: 12, username: "bob", email: "bob.keller@notes.test", password: "$2b$10$A1cE3gI5kM7oQ9sU1wY3aC5eG7iK9mO1qS3uW5yA7cE9gI1kM3oQ", passphrase: "red kite over hills" },
];
const ORDERS = [
  { orderNumber: "A-100482", userId: 7, total: 42.0, status: "shipped" },
  { orderNumber: "A-100517", userId: 7, total: 8.5, status: "paid" },
  { orderNumber: "A-100733", userId: 12, total: 120.0, status: "paid" },
];
let NOTES = [
  { id: "4c1f9e2a", owner: 7, title: "Groceries", body: "eggs, flour" },
  { id: "8d3b7c61", owner: 12, title: "Gift ideas", body: "a kite" },
];
const PRODUCTS = ["notebook", "mug", "laptop stand", "pencil case"];

// the request log the tests read: what arrived, with which credential, answered how
function logRequests(scheme) {
  return (req, res, next) => {
    if (process.env.REQUEST_LOG) {
      res.on("finish", () => {
        const entry = {
          scheme,
          method: req.method,
          path: req.originalUrl,
          authorization: req.get("Authorization") || null,
          cookie: req.get("Cookie") || null,
          status: res.statusCode,
        };
        fs.appendFileSync(process.env.REQUEST_LOG, JSON.stringify(entry) + "\n");
      });
    }
    next();
  };
}

const app = express();
if (!vulnerable) app.set("env", "production");
app.use(logRequests("https"));
app.use(express.json());
app.use((req, res, next) => {
  res.set("Cache-Control", "no-store");
  // vulnerable: no helmet, so no Strict-Transport-Security either
  if (!vulnerable) res.set("Strict-Transport-Security", "max-age=31536000; includeSubDomains");
  next();
});
if (vulnerable) app.use(cors({ origin: true, credentials: true }));
else app.use(cors({ origin: ["https://notes.example.com"], credentials: true }));

function authenticate(req, res, next) {
  const [scheme, token] = (req.get("Authorization") || "").split(" ");
  if (scheme !== "Bearer" || !token) {
    res.set("WWW-Authenticate", "Bearer");
    return res.status(401).json({ error: "missing token" });
  }
  try {
    req.user = jwt.verify(token, SECRET, { algorithms: ["HS256"] });
    // jsonwebtoken accepts a token without "exp"; the hardened variant does not
    if (!vulnerable && typeof req.user.exp !== "number") throw new Error("no exp");
  } catch (err) {
    res.set("WWW-Authenticate", 'Bearer error="invalid_token"');
    return res.status(401).json({ error: "invalid token" });
  }
  next();
}

// vulnerable: any signed-in user may read any object; hardened: only the owner
function mine(req, ownerId) {
  return vulnerable || ownerId === req.user.user_id;
}

const api = express.Router();

api.get("/health", (req, res) => res.json({ status: "ok" }));

api.post("/login", (req, res) => {
  const user = USERS.find((u) => u.username === (req.body || {}).username);
  if (!user) return res.status(401).json({ error: "bad credentials" });
  const token = jwt.sign({ user_id: user.id, username: user.username }, SECRET, { expiresIn: "1h" });
  res.json({ token });
});

api.get("/search", (req, res) => {
  // vulnerable: `q` is required by the document but never checked
  if (!vulnerable && typeof req.query.q !== "string") {
    return res.status(400).json({ error: "q is required" });
  }
  const q = req.query.q.toLowerCase();
  res.json(PRODUCTS.filter((p) => p.includes(q)));
});

api.get("/profile", authenticate, (req, res) => {
  const user = USERS.find((u) => u.id === req.user.user_id);
  res.json({ username: user.username, email: user.email });
});

api.get("/users/:userId", authenticate, (req, res) => {
  const user = USERS.find((u) => String(u.id) === req.params.userId);
  if (!user || !mine(req, user.id)) return res.status(404).json({ error: "not found" });
  if (vulnerable) return res.json(user); // the whole row: password hash and passphrase too
  res.json({ id: user.id, username: user.username, email: user.email });
});

api.get("/users/:userId/orders", authenticate, (req, res) => {
  const id = Number(req.params.userId);
  if (!mine(req, id)) return res.status(404).json({ error: "not found" });
  res.json(ORDERS.filter((o) => o.userId === id).map(({ orderNumber, total }) => ({ orderNumber, total })));
});

api.get("/orders/:orderNumber", authenticate, (req, res) => {
  const order = ORDERS.find((o) => o.orderNumber === req.params.orderNumber);
  if (!order || !mine(req, order.userId)) return res.status(404).json({ error: "not found" });
  res.json({ orderNumber: order.orderNumber, total: order.total, status: order.status });
});

api.get("/notes", authenticate, (req, res) => {
  res.json(NOTES.filter((n) => n.owner === req.user.user_id).map(({ id, title }) => ({ id, title })));
});

api.get("/notes/:noteId", authenticate, (req, res) => {
  const note = NOTES.find((n) => n.id === req.params.noteId);
  if (!note || !mine(req, note.owner)) return res.status(404).json({ error: "not found" });
  res.json({ id: note.id, title: note.title, body: note.body });
});

if (vulnerable) {
  // vulnerable: the authenticate middleware was forgotten on this route, and the delete is a
  // filter that answers 204 whether a note went or not: anyone may delete anyone's note
  api.delete("/notes/:noteId", (req, res) => {
    NOTES = NOTES.filter((n) => n.id !== req.params.noteId);
    res.status(204).end();
  });
} else {
  api.delete("/notes/:noteId", authenticate, (req, res) => {
    const note = NOTES.find((n) => n.id === req.params.noteId);
    if (!note || note.owner !== req.user.user_id) return res.status(404).json({ error: "not found" });
    NOTES = NOTES.filter((n) => n !== note);
    res.status(204).end();
  });
}

api.get("/passphrase/:username", authenticate, (req, res) => {
  const user = USERS.find((u) => u.username === req.params.username);
  if (!user || !mine(req, user.id)) return res.status(404).json({ error: "not found" });
  res.json({ username: user.username, reminder: user.passphrase.split(" ")[0] });
});

api.get("/codes/random", authenticate, (req, res) => {
  const length = Number(req.query.length);
  // vulnerable: the documented bounds (8..64) are never checked; crypto throws past 2^31
  if (!vulnerable && !(Number.isInteger(length) && length >= 8 && length <= 64)) {
    return res.status(400).json({ error: "length must be an integer from 8 to 64" });
  }
  res.json({ code: crypto.randomBytes(length).toString("hex").slice(0, length) });
});

app.use("/api/v2", api);

if (!vulnerable) {
  app.use((req, res) => res.status(404).json({ error: "not found" }));
  // eslint-disable-next-line no-unused-vars
  app.use((err, req, res, next) => {
    const status = err.status && err.status < 500 ? err.status : 500;
    res.status(status).json({ error: status === 500 ? "internal error" : "bad request" });
  });
}

const port = Number(process.env.PORT || 0);
if (process.env.TLS_CERT && process.env.TLS_KEY) {
  const tls = { cert: fs.readFileSync(process.env.TLS_CERT), key: fs.readFileSync(process.env.TLS_KEY) };
  const server = https.createServer(tls, app).listen(port, "127.0.0.1", () => {
    const origin = `https://127.0.0.1:${server.address().port}`;
    // the plain-HTTP port only sends clients to HTTPS; vulnerable: with res.redirect's default
    // 302, which turns a POST or DELETE into a GET (or resends its body in clear); hardened: 308
    const redirector = express();
    redirector.use(logRequests("http"));
    redirector.use((req, res) => res.redirect(vulnerable ? 302 : 308, origin + req.originalUrl));
    const plain = http.createServer(redirector).listen(0, "127.0.0.1", () => {
      console.log(`listening on ${server.address().port} ${plain.address().port}`);
    });
  });
} else {
  const server = app.listen(port, "127.0.0.1", () => {
    console.log(`listening on ${server.address().port}`);
  });
}
