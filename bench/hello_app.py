"""The reference app: Flask's hello world, served by the same gunicorn as the site.

GET / answers a short text, as TechEmpower's plaintext test does; POST / reads a small
form and answers 303, as a successful booking does. Nothing else: no database, no session,
no templates, so the gap between this and a page is what the page itself costs.
"""

from flask import Flask, redirect, request

app = Flask(__name__)


@app.get("/")
def hello():
    return "Hello, World!", 200, {"Content-Type": "text/plain"}


@app.post("/")
def posted():
    name = request.form.get("name", "")
    return redirect(f"/?thanks={len(name)}", code=303)
