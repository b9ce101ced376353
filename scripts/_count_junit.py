"""Counts the leaf tests of a Deno JUnit report: `passed failed skipped`.

Deno reports every describe() block as a test case too, named like its children's prefix
("a > b" for the block, "a > b > c" for a test in it); only the leaves are tests.
Usage: python3 scripts/_count_junit.py report.xml
"""
import sys
import xml.etree.ElementTree as ElementTree

cases = list(ElementTree.parse(sys.argv[1]).getroot().iter("testcase"))
names = [case.get("name", "") for case in cases]
prefixes = {name.rsplit(" > ", 1)[0] for name in names if " > " in name}
passed = failed = skipped = 0
for case, name in zip(cases, names):
    if name in prefixes:
        continue
    if case.find("failure") is not None or case.find("error") is not None:
        failed += 1
    elif case.find("skipped") is not None:
        skipped += 1
    else:
        passed += 1
print(passed, failed, skipped)
