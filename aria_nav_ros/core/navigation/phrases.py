"""What the wearer hears, in English and Spanish: "Person ahead, two meters" / "Persona delante, a dos metros";
a distance that is only an upper bound: "Person ahead, under two meters" / "Persona delante, a menos de dos metros"."""

from __future__ import annotations

import math

LANGUAGES = ("en", "es")

_NUMBERS = {
    "en": ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
           "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty"],
    "es": ["cero", "un", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve", "diez", "once", "doce",
           "trece", "catorce", "quince", "dieciséis", "diecisiete", "dieciocho", "diecinueve", "veinte"],
}  # fmt: skip
_CLASSES_ES = {
    "person": "Persona", "car": "Coche", "bus": "Autobús", "truck": "Camión", "motorcycle": "Moto",
    "bicycle": "Bicicleta", "dog": "Perro", "chair": "Silla", "bench": "Banco", "potted plant": "Maceta",
    "fire hydrant": "Boca de incendios", "stop sign": "Señal de stop", "traffic light": "Semáforo",
    "obstacle": "Obstáculo",
}  # fmt: skip
_PLURALS = {
    "en": {"person": "people", "bus": "buses", "bench": "benches", "potted plant": "potted plants"},
    "es": {"Autobús": "Autobuses", "Camión": "Camiones", "Boca de incendios": "Bocas de incendios",
           "Señal de stop": "Señales de stop", "Semáforo": "Semáforos"},
}  # fmt: skip
_AND = {"en": "and", "es": "y"}
_ZONE_WORDS = {  # a zone in a list of zones ("left and right")
    "en": {"ahead": "ahead", "left": "left", "right": "right"},
    "es": {"ahead": "delante", "left": "a la izquierda", "right": "a la derecha"},
}
_ZONES = {
    "en": {"ahead": "ahead", "left": "on the left", "right": "on the right"},
    "es": {"ahead": "delante", "left": "a la izquierda", "right": "a la derecha"},
}
_CAMERAS = {
    "en": {"rgb": "front camera", "slam_left": "left camera", "slam_right": "right camera"},
    "es": {"rgb": "cámara frontal", "slam_left": "cámara izquierda", "slam_right": "cámara derecha"},
}
_SYSTEM = {
    "en": {"lost": "{camera} lost", "back": "{camera} back", "ready": "System ready", "paused": "System paused",
           "resumed": "System back", "cameras_lost": "Cameras lost", "cameras_back": "Cameras back",
           "recording_ended": "Recording ended", "source_failed": "Recording failed",
           "recording_stopped": "Recording stopped", "stopped": "Navigation stopped",
           "camera_failed": "{camera} not working"},
    "es": {"lost": "{camera} perdida", "back": "{camera} recuperada", "ready": "Sistema listo",
           "paused": "Sistema en pausa", "resumed": "Sistema activo", "cameras_lost": "Cámaras perdidas",
           "cameras_back": "Cámaras recuperadas", "recording_ended": "Grabación terminada",
           "source_failed": "Fallo de la grabación", "recording_stopped": "Grabación detenida",
           "stopped": "Navegación detenida", "camera_failed": "{camera} no funciona"},
}  # fmt: skip
_CAREFUL = {"en": "Careful! ", "es": "¡Cuidado! "}


def check_language(language: str) -> str:
    if language not in LANGUAGES:
        raise ValueError(f"language {language!r}: choose one of {', '.join(LANGUAGES)}")
    return language


def distance_words(metres: float, language: str, bound: bool = False) -> str:
    """Half metres up to 3 m, whole metres beyond, words up to twenty. A bound is rounded up (still true) and
    said as one: "under two meters" (in half metres up to 5 m: a bound just over 3 m is no "under four")."""
    step = 0.5 if metres < (5.0 if bound else 3.0) else 1.0
    value = max(0.5, (math.ceil(metres / step - 1e-9) if bound else round(metres / step)) * step)
    whole, half = int(value), value - int(value) >= 0.5
    if whole > 20:
        number = str(whole)
    else:
        number = _NUMBERS[language][whole]
    if language == "en":
        under = "under " if bound else ""
        if whole == 0:
            return f"{under}half a meter"
        return f"{under}{number}{' and a half' if half else ''} meter{'s' if value > 1 else ''}"
    if whole == 0:
        words = "medio metro"
    elif whole == 1:
        words = "metro y medio" if half else "un metro"
    else:
        words = f"{number} metros{' y medio' if half else ''}"
    return f"a menos de {words}" if bound else f"a {words}"


def _name(class_name: str, language: str) -> str:
    return _CLASSES_ES.get(class_name, class_name.capitalize()) if language == "es" else class_name.capitalize()


def _plural(class_name: str, language: str) -> str:
    if language == "en":
        return _PLURALS["en"].get(class_name, class_name + "s")
    name = _name(class_name, "es")
    return _PLURALS["es"].get(name, name + "s").lower()


def _count(n: int, language: str) -> str:
    if n > 20:
        return str(n)
    return "una" if (n == 1 and language == "es") else _NUMBERS[language][n]


def hazard_text(class_name: str, zone: str, metres: float, critical: bool, language: str, bound: bool = False) -> str:
    """`bound`: `metres` is an upper bound ("under two meters")."""
    text = f"{_name(class_name, language)} {_ZONES[language][zone]}"
    if math.isfinite(metres):
        text += f", {distance_words(metres, language, bound)}"
    return (_CAREFUL[language] if critical else "") + text


def group_text(
    class_name: str, count: int, zones: list[str], metres: float, critical: bool, language: str, bound: bool = False
) -> str:
    """Several of one class at once, in one phrase: "Two people, left and right, three meters" (the nearest)."""
    where = [z for z in ("left", "ahead", "right") if z in zones]
    words = [_ZONE_WORDS[language][z] for z in where]
    text = f"{_count(count, language)} {_plural(class_name, language)}"
    if len(where) == 1:
        text += f" {_ZONES[language][where[0]]}"
    else:
        text += ", " + ", ".join(words[:-1]) + f" {_AND[language]} {words[-1]}"
    if math.isfinite(metres):
        text += f", {distance_words(metres, language, bound)}"
    text = text[0].upper() + text[1:]
    return (_CAREFUL[language] if critical else "") + text


def system_text(event: str, language: str, camera: str = "") -> str:
    camera_words = _CAMERAS[language].get(camera, camera)
    text = _SYSTEM[language][event].format(camera=camera_words)
    return text[0].upper() + text[1:]
