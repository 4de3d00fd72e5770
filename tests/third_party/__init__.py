"""Code reproduced verbatim from other projects, for tests that check tta against real code as its authors wrote it.

Each module's header names its source, version and license. Only what the header says is changed; tta's own code
(launch functions, metas, references, test cases) lives in tests/unit and imports from here."""
