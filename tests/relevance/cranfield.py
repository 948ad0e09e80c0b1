"""The Cranfield collection (shared/corpora/cranfield) as lode's tests and
benchmarks use it: 1400 documents written one per file (title on the first
line, then the abstract), 225 queries, graded judgments.

The judgments number queries 1..225 in the order of cran.qry, not by its
.I numbers. Grades (cranqrel.readme): 1 a complete answer ... 4 of minimum
interest, as gains 4..1; -1 marks a judged non-relevant document (gain 0).
"""
import os
import re


def _records(path):
    """(number, {field: text}) for each .I record of a Cranfield file."""
    with open(path, encoding="latin-1") as f:
        text = f.read()
    for chunk in re.split(r"^\.I ", text, flags=re.M)[1:]:
        head, _, body = chunk.partition("\n")
        fields, current = {}, None
        for line in body.split("\n"):
            m = re.match(r"^\.([TAWB])\s*$", line)
            if m:
                current = m.group(1)
                fields.setdefault(current, [])
            elif current:
                fields[current].append(line)
        yield int(head.strip()), {k: " ".join(" ".join(v).split()) for k, v in fields.items()}


def documents(root):
    return [(num, f.get("T", ""), f.get("W", "")) for num, f in _records(os.path.join(root, "cran.all.1400"))]


def queries(root):
    """[(qid, text)] with qid 1..225 in file order, as the judgments count."""
    return [(str(i + 1), f.get("W", "")) for i, (_, f) in enumerate(_records(os.path.join(root, "cran.qry")))]


def qrels(root):
    gains = {"1": 4, "2": 3, "3": 2, "4": 1}
    out = {}
    with open(os.path.join(root, "cranqrel")) as f:
        for line in f:
            parts = line.split()
            if len(parts) != 3:
                continue
            out.setdefault(parts[0], {})[parts[1]] = gains.get(parts[2], 0)
    return out


def write_documents(root, folder):
    """One file per document, named by its number (the TREC docid)."""
    os.makedirs(folder, exist_ok=True)
    for num, title, text in documents(root):
        with open(os.path.join(folder, "%d.txt" % num), "w", encoding="utf-8") as f:
            f.write(title + "\n\n" + text + "\n")


def find_root(source_dir):
    for cand in (os.path.join(source_dir, "..", "shared", "corpora", "cranfield"),
                 os.environ.get("LODE_CRANFIELD", "")):
        if cand and os.path.exists(os.path.join(cand, "cran.all.1400")):
            return os.path.abspath(cand)
    return None
