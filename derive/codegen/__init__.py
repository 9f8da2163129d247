"""Code generation: verified stable forms, printed, arranged into one self-contained module.

``context`` turns a ``Book`` into plain strings for the module template; ``runtime`` is
the fixed Python (input checking, blocks, reductions, worker threads) that the renderer
pastes verbatim into every generated module. May import ``derive.engine`` and
``derive.printing``; never the sheet or the checker.
"""
