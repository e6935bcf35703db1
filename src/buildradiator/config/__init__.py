"""Configuration: reading the TOML file, reporting every problem at once, resolving secrets.

Owns the tables every config has (``tables``, ``share``: ``[radiator]``, ``[alerts]``,
``[serve]``...), the keys every ``[[sources]]`` table shares (``base.SourceBase``), reading
secrets (``credentials``) and the loader (``loading``), which checks ``[[sources]]`` against the
types it is given; each provider's own keys live in its folder under ``sources/``. Imports only
the model layer (``errors``, ``paths``, ``text``).
"""
