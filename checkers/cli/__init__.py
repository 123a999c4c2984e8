"""The ``latentcheck`` command line: one typer app (:mod:`.app`) and a module per command.

Importing this package loads nothing else: the console script (:mod:`.console`) installs the Ctrl-C
handler first, then loads the app.
"""
