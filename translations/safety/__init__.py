"""Safety data beside the catalogs: disclosure wording (`phrases.toml`) and emergency contacts (`hotlines.toml`)."""
