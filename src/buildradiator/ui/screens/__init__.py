"""One Screen per mode of the radiator: ``main`` (banner, panels and status bar, laid out by the
terminal's size, with the keys a person at the keyboard uses) and ``wall`` (a TV nobody
touches). ``base`` holds what they share: the ``View`` the app hands down at each redraw and
the ``Host`` protocol, what a screen may ask of the app. Overlays (help, a pipeline's detail,
the claim dialog) are in ``widgets``.
"""
