"""replab: the package students import, shipped beside the Lab 8 notebook (and nothing else).

The frozen data (corpus.py), features, training helpers, the Mantis CSV reader/writer, metrics,
pictures, the offline viewer, the written-answers export and the live Wikipedia fetch the notebook can
use to explore topics of its own. Where a release's data comes from is build-side (assignment/sources/).
The parts students write themselves (the hook, the capture loop, the export, the separation measure)
are not here: they live in the notebook.
"""
