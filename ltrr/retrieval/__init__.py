"""Retrieval strategies (lexical, popular, ...) and the retrieval-plan menu and logging policy.

Modules: ``lexical`` (BM25 on tantivy), ``popular`` (most popular per tag/type), ``plans``
(the plan menu and the epsilon-greedy policy). Import what you need from the modules; this
package imports nothing heavy on its own.
"""
