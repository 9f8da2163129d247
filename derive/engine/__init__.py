"""The engine: the mathematics, and nothing that turns it into files.

It owns the symbols, the registry of activations and losses, the model (what each
displayed symbol means), the verifier, ``Step``/``Derivation``, the rules, the
derivations (reached by name through ``Book``), the canonical-link table, equation
numbers, and plain text for its own titles and messages.

It may import SymPy, mpmath and the standard library only; nothing else in ``derive``
imports into it.
"""
