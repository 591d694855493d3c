"""The ByteAI knowledge base: FAQ data, the ChromaDB store, and its evaluation (no Pipecat, no vendors)."""

from voiceagent.knowledge.faq import FaqEntry, KnowledgeError, load_faq
from voiceagent.knowledge.store import EmbeddingModelMismatch, Hit, IngestReport, KnowledgeBase

__all__ = ["EmbeddingModelMismatch", "FaqEntry", "Hit", "IngestReport", "KnowledgeBase", "KnowledgeError", "load_faq"]
