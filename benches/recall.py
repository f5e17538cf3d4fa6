#!/usr/bin/env python3
"""Recall on the example credentials another scanner publishes with its rules.

    benches/recall.py PATSCAN KINGFISHER_GIT_DIR [--by-family]

Kingfisher's rule files (data/rules/*.yml) carry `examples:` for most rules:
real-shaped strings its authors expect to be found. Each example is written
to its own file in a temporary folder (never into this repository), the
folder is scanned once, and an example counts as found when patscan reports
anything in its file. Examples that are plainly placeholders (runs of x,
"example", 1234567890, abcdef, 000000, "your") are left out, since patscan
is meant to stay quiet on them. Prints the overall recall and the families
(one rule file = one family) with none found.

Kingfisher is not vendored: fetch its repository yourself and pass the bare
git directory (or a checkout).
"""
import json
import os
import re
import subprocess
import sys
import tempfile

import yaml

PLACEHOLDER = re.compile(r"x{4,}|example|1234567890|abcdef|0{6,}|your[_-]", re.I)


def rule_files(source):
    if os.path.isdir(os.path.join(source, "data", "rules")):
        base = os.path.join(source, "data", "rules")
        for name in sorted(os.listdir(base)):
            if name.endswith((".yml", ".yaml")):
                with open(os.path.join(base, name), encoding="utf-8") as f:
                    yield name, f.read()
        return
    names = subprocess.run(
        ["git", "-C", source, "ls-tree", "--name-only", "HEAD", "data/rules/"],
        check=True, capture_output=True, text=True).stdout.split()
    for path in names:
        if path.endswith((".yml", ".yaml")):
            text = subprocess.run(["git", "-C", source, "show", f"HEAD:{path}"],
                                  check=True, capture_output=True, text=True).stdout
            yield os.path.basename(path), text


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    patscan, source = sys.argv[1], sys.argv[2]
    by_family = "--by-family" in sys.argv
    corpus = tempfile.mkdtemp(prefix="patscan-recall-")
    examples = {}  # relative path -> family
    skipped = 0
    for name, text in rule_files(source):
        family = re.sub(r"\.ya?ml$", "", name)
        try:
            doc = yaml.safe_load(text) or {}
        except yaml.YAMLError:
            continue
        for rule in doc.get("rules", []) or []:
            for i, example in enumerate(rule.get("examples", []) or []):
                if not isinstance(example, str) or not example.strip():
                    continue
                if PLACEHOLDER.search(example):
                    skipped += 1
                    continue
                rel = f"{family}/{rule.get('id', 'rule')}-{i}.txt"
                os.makedirs(os.path.join(corpus, family), exist_ok=True)
                with open(os.path.join(corpus, rel), "w", encoding="utf-8") as f:
                    f.write(example + "\n")
                examples[rel] = family
    out = subprocess.run(
        [patscan, "scan", corpus, "--no-cache", "--exit-zero", "--format", "jsonl", "-q"],
        capture_output=True, text=True)
    found = set()
    for line in out.stdout.splitlines():
        try:
            finding = json.loads(line)
        except json.JSONDecodeError:
            continue
        path = finding.get("path", "")
        rel = os.path.relpath(os.path.join(corpus, path), corpus) if not os.path.isabs(path) \
            else os.path.relpath(path, corpus)
        for candidate in (rel, path):
            if candidate in examples:
                found.add(candidate)
        # paths may be reported relative to the scanned folder
        tail = "/".join(path.split("/")[-2:])
        if tail in examples:
            found.add(tail)
    families = sorted(set(examples.values()))
    hit_families = {examples[p] for p in found}
    print(f"examples: {len(examples)} (placeholders left out: {skipped}) in {len(families)} families")
    print(f"found: {len(found)} = {100.0 * len(found) / max(1, len(examples)):.1f}%; "
          f"families with at least one found: {len(hit_families)}")
    if by_family:
        for family in families:
            total = sum(1 for f in examples.values() if f == family)
            got = sum(1 for p in found if examples[p] == family)
            print(f"  {family}: {got}/{total}")


if __name__ == "__main__":
    main()
