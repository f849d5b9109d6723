"""Flask extensions, created unbound and attached to an app by `create_app`."""

from __future__ import annotations

from flask_bootstrap import Bootstrap5
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf import CSRFProtect

migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
bootstrap = Bootstrap5()
# Only the API is limited (its blueprint says how much); pages are not.
limiter = Limiter(key_func=get_remote_address, default_limits=[])
