"""Configuration: reading the TOML file, reporting every problem at once, resolving secrets.

Owns the tables every config has (``[radiator]``, ``[alerts]``, ``[serve]``...) and the keys
every ``[[sources]]`` table shares (``base.SourceBase``); each provider's own keys live in its
folder under ``sources/``. Imports only the model layer (``errors``, ``paths``, ``text``).
"""
