"""Verifies Supabase-issued session JWTs (HS256 with the project's JWT secret) and returns their email."""
from __future__ import annotations

import attrs
import jwt


@attrs.define
class SupabaseJwtVerifier:
    secret: str = attrs.field(repr=False)
    audience: str = "authenticated"
    issuer: str | None = None

    def verify(self, token: str) -> str | None:
        if token.count(".") != 2:
            return None
        try:
            claims = jwt.decode(token, self.secret, algorithms=["HS256"], audience=self.audience,
                                issuer=self.issuer, options={"require": ["exp", "sub", "aud"]})
        except jwt.PyJWTError:
            return None
        email = claims.get("email")
        return email.strip().lower() if isinstance(email, str) and email else None
