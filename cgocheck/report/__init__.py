"""Renderers: typed results (file reports, diffs, matrix results) as table, JSON, JUnit, SARIF, Markdown, HTML."""
