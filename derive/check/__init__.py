"""``derive check``: derivations written by people, read and judged by the engine.

``vocabulary`` is the one table of what the reader understands; ``reader`` turns LaTeX
into SymPy chains through it (nothing is evaluated as code); ``report`` checks each
consecutive equality with ``Step`` and reports it as text or JSON. May import
``derive.engine`` and ``derive.printing``.
"""
