"""Settings, database and Redis factories, the clock and logging.

For a marketer: this is where the server learns where its data lives, which time zone
the console speaks, and how secrets are kept. Everything else in 存客宝 builds on it.
"""
from config.settings import Settings, load_settings

__all__ = ["Settings", "load_settings"]
