"""q3: the Mantis CSV — one row per item, one embedding column per epoch."""
import numpy as np

from replab.mantis import write_mantis_csv


def export_mantis(path, corpus, is_test, snapshots):
    """Write title, categoric, split, snippet and embedding_epoch_0 … embedding_epoch_E to `path`."""
    # BEGIN SOLUTION
    splits = np.where(is_test, "test", "train")
    snippets = [corpus.snippet(i) for i in range(len(corpus))]
    return write_mantis_csv(path, corpus.titles, corpus.labels, splits, snippets, snapshots)
    # END SOLUTION
