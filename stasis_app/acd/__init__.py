"""The automatic call distributor's domain core: plain data in, decisions out, no I/O.

Campaign settings and DID matching (``campaigns``), opening hours (``schedule``), agents and their
states (``agents``), waiting callers and who gets offered the next call (``queueing``), and the rows
written to ``queue_log`` and ``cdr`` (``records``). Time is always passed in, never read here.
"""
