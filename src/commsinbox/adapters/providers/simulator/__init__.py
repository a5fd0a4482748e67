"""The bundled provider simulator (`commsinbox simulator`): Twilio, Meta Graph and Instagram at their real paths,
plus a `/_sim/` control API. See `app.py` for the routes."""
from __future__ import annotations

from .app import create_simulator_app, run_simulator
from .state import SimulatorState

__all__ = ["SimulatorState", "create_simulator_app", "run_simulator"]
