"""Writers of the world's files in the formats real data uses (LLaVA, REVERIE, POPE, CHAIR, MME, multiple choice)."""
