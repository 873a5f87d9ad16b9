#!/usr/bin/env python3
"""Converts the IMDB Large Movie Review Dataset v1.0 (Maas et al. 2011) to heed's TSV layout.

Input: the original archive aclImdb_v1.tar.gz (read in place, nothing extracted) or an extracted
aclImdb/ folder: aclImdb/{train,test}/{pos,neg}/<id>_<rating>.txt.
Output: OUT/train.tsv.gz and OUT/test.tsv.gz, one review per row, the layout of
../shared/data/imdb (its README, section 3):

    label<TAB>id<TAB>rating<TAB>text          (header line)
    label   0 = neg folder, 1 = pos folder
    id      the file name stem <id>_<rating>, e.g. 0_9
    rating  1-4 (neg) or 7-10 (pos)
    text    the file content; TAB (and any line break) replaced by a space

Rows are sorted by label (neg first), then by numeric id. The unlabeled train/unsup reviews
and the bag-of-words files are skipped. Python 3 standard library only.

Usage: python3 scripts/imdb_to_tsv.py aclImdb_v1.tar.gz|aclImdb/ OUT_DIR
"""

import gzip
import os
import re
import sys
import tarfile

MEMBER = re.compile(r"(?:^|/)aclImdb/(train|test)/(pos|neg)/((\d+)_(\d+))\.txt$")


def reviews_from_tar(path):
    """(split, label, id, numeric id, rating, text) for every labeled review in the archive."""
    with tarfile.open(path, "r:*") as archive:
        for member in archive:  # streams through the archive once
            match = MEMBER.search(member.name)
            if member.isfile() and match:
                yield match, archive.extractfile(member).read()


def reviews_from_folder(root):
    for folder, _, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            match = MEMBER.search(path.replace(os.sep, "/"))
            if match:
                with open(path, "rb") as f:
                    yield match, f.read()


def convert(source, out_dir):
    read = reviews_from_folder if os.path.isdir(source) else reviews_from_tar
    rows = {"train": [], "test": []}
    replaced = {"train": 0, "test": 0}
    for match, raw in read(source):
        split, folder, stem, number, rating = match.groups()
        text = raw.decode("utf-8")
        clean = re.sub(r"[\t\r\n]", " ", text)
        replaced[split] += clean != text
        label = 1 if folder == "pos" else 0
        rows[split].append((label, int(number), stem, int(rating), clean))

    os.makedirs(out_dir, exist_ok=True)
    for split, items in rows.items():
        if len(items) != 25000:
            sys.exit(f"imdb_to_tsv: expected 25000 {split} reviews in {source}, found {len(items)}")
        items.sort()
        for label, _, stem, rating, _ in items:
            if label != (rating >= 7):
                sys.exit(f"imdb_to_tsv: {split} review {stem}: label {label} but rating {rating}")
        path = os.path.join(out_dir, f"{split}.tsv.gz")
        # mtime=0 and no file name in the header: the same input always gives the same bytes.
        with open(path + ".part", "wb") as raw_out:
            with gzip.GzipFile(filename="", mode="wb", fileobj=raw_out, mtime=0) as gz:
                gz.write(b"label\tid\trating\ttext\n")
                for label, _, stem, rating, text in items:
                    gz.write(f"{label}\t{stem}\t{rating}\t{text}\n".encode("utf-8"))
        os.replace(path + ".part", path)
        print(f"imdb_to_tsv: {path}: {len(items)} reviews "
              f"({sum(label for label, *_ in items)} positive; "
              f"tabs/line breaks replaced in {replaced[split]})")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip().splitlines()[-1])
    convert(sys.argv[1], sys.argv[2])


if __name__ == "__main__":
    main()
