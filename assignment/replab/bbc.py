"""BBC News articles (Greene & Cunningham, 2006) from the CSV the original lab read: columns ``news,type``."""
from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import requests

from .corpus import Corpus, DataError
from .http import describe_error, make_session

ENCODING = "latin-1"  # how the published file is encoded
COLUMNS = ("news", "type")


def load_bbc(source: str | Path, session: requests.Session | None = None, timeout: float | tuple = 30.0) -> Corpus:
    """Read the CSV from an http(s) URL or a local path. Row order is the file's; rows without text or
    label are dropped. Title = first non-empty line of the article, label = its ``type``."""
    where = str(source)
    is_url = where.startswith(("http://", "https://"))
    try:
        if is_url:
            response = (session or make_session()).get(where, timeout=timeout)
            response.raise_for_status()
            frame = pd.read_csv(io.BytesIO(response.content), encoding=ENCODING)
        else:
            frame = pd.read_csv(where, encoding=ENCODING)
    except requests.RequestException as e:
        raise DataError(f"{where}: download failed ({describe_error(e)})") from None
    except FileNotFoundError:
        raise DataError(f"{where}: file not found") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{where}: empty file, expected a CSV with columns {', '.join(COLUMNS)}") from None
    except (OSError, ValueError, pd.errors.ParserError) as e:
        raise DataError(f"{where}: not a readable CSV ({describe_error(e)})") from None

    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(f"{where}: missing column(s) {', '.join(missing)} (found: {list(frame.columns[:5])})")
    frame = frame[list(COLUMNS)].dropna()
    filled = frame.apply(lambda column: column.astype(str).str.strip().astype(bool))
    frame = frame[filled["news"] & filled["type"]]
    if frame.empty:
        raise DataError(f"{where}: no rows with both news and type")

    texts = [str(t).strip() for t in frame["news"]]
    return Corpus(
        name="bbc",
        titles=[next(line.strip() for line in t.splitlines() if line.strip()) for t in texts],
        labels=[str(label).strip() for label in frame["type"]],
        texts=texts,
        source=f"live {where}" if is_url else f"data-dir {where}",
    )
