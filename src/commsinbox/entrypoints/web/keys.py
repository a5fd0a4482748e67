"""Every typed key stored on the app or a request."""
from __future__ import annotations

from typing import Any

from aiohttp import web

from ...domain.model.users import User
from ..config import Settings
from ..container import Services

settings_key = web.AppKey("settings", Settings)
services_key = web.AppKey("services", Services)
user_key = web.RequestKey("user", User)
cookies_key = web.RequestKey("cookies", list[dict[str, Any]])

SESSION_COOKIE = "commsinbox_session"
