#!/usr/bin/env python3
"""Checks docs/openapi.json against the router: every route `surge routes` lists is documented
with the same method and path, every documented operation is a route, and each operation's
security says what the route's access level does (login: a session is required; admin: the
`admin` scheme, the administrator's token, is required; login-or-admin: a session or the admin
token; public: none or optional). Exits 1 with the differences listed.

    openapi_routes.py --surge build/ci/surge --document docs/openapi.json
"""
import argparse
import json
import subprocess
import sys

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def router_routes(surge):
    out = subprocess.run([surge, "routes"], check=True, capture_output=True, text=True).stdout
    routes = {}
    for line in out.splitlines():
        method, pattern, access = line.split()
        if access not in ("public", "login", "admin", "login-or-admin"):
            sys.exit(f"unexpected access level in `surge routes`: {line!r}")
        routes[(method.upper(), pattern)] = access
    if not routes:
        sys.exit("`surge routes` printed no route")
    return routes


def document_access(operation, default_security):
    """public when one alternative needs nothing; login when every alternative needs the session
    scheme; admin when every one needs the admin scheme; login-or-admin when each needs one of
    them and both occur."""
    security = operation.get("security", default_security)
    if not security or any(not requirement for requirement in security):
        return "public"
    if all("session" in requirement for requirement in security):
        return "login"
    if all("admin" in requirement for requirement in security):
        return "admin"
    if all("session" in r or "admin" in r for r in security):
        return "login-or-admin"
    return f"unknown security {security!r}"


def document_routes(path):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    default_security = doc.get("security", [])
    routes = {}
    for pattern, item in doc.get("paths", {}).items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                routes[(method.upper(), pattern)] = document_access(operation, default_security)
    return routes


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--surge", required=True, help="the surge binary")
    parser.add_argument("--document", required=True, help="the OpenAPI document (JSON)")
    args = parser.parse_args()

    served = router_routes(args.surge)
    described = document_routes(args.document)
    problems = []
    for method, pattern in sorted(served.keys() - described.keys()):
        problems.append(f"served but not in the document: {method} {pattern}")
    for method, pattern in sorted(described.keys() - served.keys()):
        problems.append(f"in the document but not served: {method} {pattern}")
    for key in sorted(served.keys() & described.keys()):
        if served[key] != described[key]:
            problems.append(f"{key[0]} {key[1]}: router says {served[key]}, "
                            f"document's security says {described[key]}")
    for p in problems:
        print(p)
    print(f"{len(served)} routes served, {len(described)} operations described, "
          f"{len(problems)} differences")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
