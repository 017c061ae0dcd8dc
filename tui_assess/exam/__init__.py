"""Proctored exams: sealed packs, the exam policy, the exam's runtime, receipts (headless)."""
