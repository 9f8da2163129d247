"""Printers: SymPy expressions to strings (LaTeX, NumPy and Python code, the JSON record).

Each printer is a small subclass of a SymPy printer that overrides only the
``_print_<Class>`` methods it needs. May import ``derive.engine``; nothing here writes a
file or renders a template.
"""
