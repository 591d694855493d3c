"""The ByteAI knowledge base: FAQ data, the ChromaDB store, and its evaluation (no Pipecat, no vendors)."""

from voiceagent.knowledge.faq import FaqEntry, KnowledgeError, load_faq
from voiceagent.knowledge.store import EmbeddingModelMismatch, Hit, IngestReport, KnowledgeBase, drop_knowledge_base

__all__ = ["EmbeddingModelMismatch", "FaqEntry", "Hit", "IngestReport", "KnowledgeBase", "KnowledgeError",
           "drop_knowledge_base", "load_faq"]
