"""Field types shared by the settings types' models, with the API's constraints."""

from __future__ import annotations

from typing import Annotated

import pydantic


class StrictModel(pydantic.BaseModel):
    """No coercion (a string is not a boolean) and no fields beyond those declared."""

    model_config = pydantic.ConfigDict(strict=True, extra="forbid")


Pattern = Annotated[str, pydantic.StringConstraints(min_length=1, max_length=1024)]
Comments = Annotated[str | None, pydantic.StringConstraints(max_length=1024)]
