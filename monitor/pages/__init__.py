"""Pure HTML -> facts: the only monitor code that spiders may import."""
