// Reading a Mantis CSV in the page: the format replab.mantis writes and reads
// (title, categoric, split, snippet, embedding_epoch_0 … embedding_epoch_{E-1}; each embedding cell a JSON
// list of numbers). Errors are one line naming the file, row (counted from 1 after the header) and column,
// as the Python reader's are.

const TEXT_COLUMNS = ["title", "categoric", "split", "snippet"];
const EPOCH_PREFIX = "embedding_epoch_";
const FLOAT32_OVERFLOW = 2 ** 128 - 2 ** 103;  // the smallest magnitude that rounds to inf in float32

class CsvError extends Error {}

// RFC 4180 rows. Quoted fields are found with indexOf (embedding cells are long), the rest char by char.
function csvRows(text, where) {
  const rows = [], n = text.length;
  let row = [], i = 0;
  while (i < n) {
    let field;
    if (text.charCodeAt(i) === 34) {  // "…", with "" for a quote inside
      const parts = [];
      let j = i + 1;
      for (;;) {
        const q = text.indexOf('"', j);
        if (q < 0) throw new CsvError(`${where}: row ${rows.length}: a quoted field never ends (a missing '"')`);
        parts.push(text.slice(j, q));
        if (text.charCodeAt(q + 1) === 34) { parts.push('"'); j = q + 2; continue; }
        i = q + 1;
        break;
      }
      field = parts.length === 1 ? parts[0] : parts.join("");
    } else {
      let j = i;
      for (; j < n; j++) { const c = text.charCodeAt(j); if (c === 44 || c === 10 || c === 13) break; }
      field = text.slice(i, j);
      i = j;
    }
    row.push(field);
    const c = text.charCodeAt(i);
    if (c === 44) { i++; if (i === n) row.push(""); continue; }
    if (i < n && c !== 10 && c !== 13) {
      throw new CsvError(`${where}: row ${rows.length}: text after a closing quote in field ${row.length}`);
    }
    if (c === 13) i++;
    if (text.charCodeAt(i) === 10) i++;
    if (!(row.length === 1 && row[0] === "")) rows.push(row);  // blank lines are skipped, as pandas does
    row = [];
  }
  if (row.length) rows.push(row);
  return rows;
}

// One embedding cell → its numbers into out[offset …]; returns how many, or throws saying what is wrong.
function parseCell(cell, out, offset, dim) {
  const s = cell.trim();
  if (!s) throw new Error("empty cell");
  if (s[0] !== "[" || s[s.length - 1] !== "]") throw new Error(`not a JSON list of numbers: '${s.slice(0, 40)}'`);
  const parts = s.slice(1, -1).split(",");
  if (parts.length === 1 && !parts[0].trim()) throw new Error("empty list");
  if (dim >= 0 && parts.length !== dim) throw new Error(`expected ${dim} numbers, got ${parts.length}`);
  for (let j = 0; j < parts.length; j++) {
    const text = parts[j].trim(), v = Number(text);
    if (!text) throw new Error(`value ${j + 1} is missing`);
    if (Number.isNaN(v)) {
      throw new Error(/^[-+]?nan$/i.test(text) ? `value ${j + 1} is NaN` : `value ${j + 1} is not a number: '${text.slice(0, 40)}'`);
    }
    if (!(Math.abs(v) < FLOAT32_OVERFLOW)) throw new Error(`value ${j + 1} is ${text.slice(0, 40)} (infinite or too large for float32)`);
    if (dim >= 0) out[offset + j] = v;
  }
  return parts.length;
}

// The whole file → {titles, categories, splits, snippets, epochs: [Float32Array N*dim], dim}.
function parseMantisCsv(text, where) {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);  // a byte-order mark, as spreadsheets save
  const rows = csvRows(text, where);
  if (!rows.length) throw new CsvError(`${where}: empty file (no header, no rows)`);
  const header = rows[0];
  for (const name of TEXT_COLUMNS) {
    if (!header.includes(name)) throw new CsvError(`${where}: missing column '${name}' (found ${header.slice(0, 6).join(", ")})`);
  }
  if (TEXT_COLUMNS.some((name, k) => header[k] !== name)) {
    throw new CsvError(`${where}: columns: expected ${TEXT_COLUMNS.join(", ")} first, found ${header.slice(0, 4).join(", ")}`);
  }
  const E = header.length - 4;
  if (E < 1) throw new CsvError(`${where}: columns: expected ${EPOCH_PREFIX}0 … after snippet, found none`);
  for (let e = 0; e < E; e++) {
    const want = EPOCH_PREFIX + e, got = header[4 + e];
    if (got !== want) {
      throw new CsvError(`${where}: columns: expected ${want} in column ${5 + e}, found ${got.trim() ? `'${got}'` : "an unnamed column (a comma at the end of the line?)"}`);
    }
  }
  const N = rows.length - 1;
  if (N < 1) throw new CsvError(`${where}: no rows`);
  const titles = [], categories = [], splits = [], snippets = [];
  for (let r = 1; r <= N; r++) {
    const row = rows[r];
    if (row.length !== header.length) {
      throw new CsvError(`${where}: row ${r} has ${row.length} fields but the header names ${header.length} columns`);
    }
    if (row[2] !== "train" && row[2] !== "test") {
      throw new CsvError(`${where}: row ${r}, column split: '${row[2].slice(0, 40)}' is not 'train' or 'test'`);
    }
    titles.push(row[0]); categories.push(row[1]); splits.push(row[2]); snippets.push(row[3]);
  }
  let dim = -1;
  const epochs = [];
  for (let e = 0; e < E; e++) {
    let r = 1;
    try {
      if (dim < 0) dim = parseCell(rows[1][4], null, 0, -1);
      const out = new Float32Array(N * dim);
      for (; r <= N; r++) parseCell(rows[r][4 + e], out, (r - 1) * dim, dim);
      epochs.push(out);
    } catch (err) {
      if (err instanceof CsvError) throw err;
      throw new CsvError(`${where}: row ${r}, column ${EPOCH_PREFIX}${e}: ${err.message}`);
    }
  }
  return { titles, categories, splits, snippets, epochs, dim };
}
