"""The compiled tape: trace a graph once (``tape``), lay it out as a program of array
instructions (``program``) and replay it over a whole batch with numpy (``replay``, which runs
the steps a group at a time: ``groups``)."""
