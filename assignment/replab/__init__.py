"""replab: the helper module shipped with the Lab 8 notebook.

Data (one loader per source, a frozen snapshot format), features, the Mantis CSV reader/writer,
metrics and pictures. The parts students write themselves (the hook, the capture loop, the export,
the separation measure) are not here: they live in the notebook.
"""
