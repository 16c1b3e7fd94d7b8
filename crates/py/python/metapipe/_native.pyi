from typing import Any, Optional

__version__: str

class MetapipeError(ValueError):
    file: Optional[str]
    line: Optional[int]
    row: Optional[int]
    column: Optional[str]

def pool(
    stream: Any,
    measure: str,
    method: str,
    test: str,
    convention: str,
    level: float,
    engine: str,
    group: Optional[str],
    tau2_max: Optional[float],
    maxiter: int,
    stepadj: float,
    threshold: float,
) -> Any: ...
def escalc(stream: Any, measure: str) -> Any: ...
def run(config: str, out: str) -> str: ...
