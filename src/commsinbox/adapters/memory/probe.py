"""The in-memory database is always reachable."""


class MemoryProbe:
    async def ping(self) -> bool:
        return True
