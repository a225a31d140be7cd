"""Where a deployment's directory files are (prefix ``CASEREG_DIRECTORY_``); built at start-up, never at import."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from casereg.directory.load import DATA_DIR, DirectoryFiles


class DirectorySettings(BaseSettings):
    """The province and the files the directory is loaded from; every path defaults to the data shipped here."""

    model_config = SettingsConfigDict(
        env_prefix="CASEREG_DIRECTORY_", extra="ignore", frozen=True, populate_by_name=True
    )

    province: str = Field(
        default="52",
        validation_alias=AliasChoices("CASEREG_DIRECTORY_PROVINCE", "CASEREG_PROVINCE"),
        description="Province code (two digits, as since 1 July 2025) whose agencies are loaded; "
        "defaults to the platform's CASEREG_PROVINCE.",
    )
    data_dir: Path = Field(
        default=DATA_DIR, description="Folder holding units-*.csv and successions-*.csv (all provinces)."
    )
    agencies_file: Path | None = Field(
        default=None, description="The province's agencies; default <data_dir>/agencies/<province>.csv."
    )
    remote_difficult_file: Path | None = Field(
        default=None,
        description="Operator-set remote/difficult areas; default <data_dir>/remote_difficult/<province>.csv.",
    )

    @field_validator("province")
    @classmethod
    def _two_digits(cls, value: str) -> str:
        if len(value) != 2 or not value.isdigit():
            raise ValueError("a province code is two digits, e.g. 52")
        return value

    def files(self) -> DirectoryFiles:
        default = DirectoryFiles.shipped(self.province, self.data_dir)
        return DirectoryFiles(
            units=default.units,
            successions=default.successions,
            agencies=(self.agencies_file,) if self.agencies_file else default.agencies,
            remote_difficult=(self.remote_difficult_file,) if self.remote_difficult_file else default.remote_difficult,
        )
