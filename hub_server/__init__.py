"""Connect Share hub: the police-side server (aiohttp, SQLAlchemy async, Alembic).

It imports only ``connect_share_protocol`` from this project, never Home Assistant.
"""

__version__ = "0.1.0"
