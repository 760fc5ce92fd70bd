"""An agent's languages: `conversation_config.agent.language` and ElevenLabs'
`conversation_config.language_presets` (`{code: {overrides: {agent: {first_message, language,
prompt: {prompt}}, tts: {voice_id}}, first_message_translation}}`).

`language_detection` switches a call to one of them: the preset's overrides (those set; a null
keeps the agent's own) applied to the agent's settings. Unknown fields are kept as written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from app.config.agent import AgentConfig

LANGUAGE_CODE = r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})?$"


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)


class PresetPrompt(_Open):
    prompt: str | None = Field(default=None, max_length=50_000)


class PresetAgent(_Open):
    first_message: str | None = Field(default=None, max_length=5_000)
    language: str | None = Field(default=None, pattern=LANGUAGE_CODE)
    prompt: PresetPrompt | None = None


class PresetTts(_Open):
    voice_id: str | None = Field(default=None, min_length=1, max_length=128)


class PresetOverrides(_Open):
    agent: PresetAgent | None = None
    tts: PresetTts | None = None


class PresetTranslation(_Open):
    text: str = Field(default="", max_length=5_000)


class LanguagePreset(_Open):
    overrides: PresetOverrides = Field(default_factory=PresetOverrides)
    first_message_translation: PresetTranslation | None = None


def agent_languages(config: AgentConfig) -> list[str]:
    """The languages the agent speaks: its own first, then its presets'."""
    own = config.conversation_config.agent.language
    presets = [code for code in config.conversation_config.language_presets if code != own]
    return [own, *presets]


def in_language(config: AgentConfig, language: str) -> AgentConfig | None:
    """The agent's settings as they are in `language` (a copy; None if it is not one of the
    agent's languages): its language, and the preset's first message, prompt and voice."""
    agent = config.conversation_config.agent
    if language == agent.language:
        return config
    preset = config.conversation_config.language_presets.get(language)
    if preset is None:
        return None
    switched = config.model_copy(deep=True)
    section = switched.conversation_config.agent
    section.language = language
    overrides = preset.overrides
    if overrides.agent is not None:
        if overrides.agent.language:
            section.language = overrides.agent.language
        if overrides.agent.first_message is not None:
            section.first_message = overrides.agent.first_message
        if overrides.agent.prompt is not None and overrides.agent.prompt.prompt is not None:
            section.prompt.prompt = overrides.agent.prompt.prompt
    elif preset.first_message_translation is not None and preset.first_message_translation.text:
        section.first_message = preset.first_message_translation.text
    if overrides.tts is not None and overrides.tts.voice_id:
        switched.conversation_config.tts.voice_id = overrides.tts.voice_id
    return switched
