"""The embedded demo API: a vulnerable and a hardened Flask twin over one OpenAPI document."""
