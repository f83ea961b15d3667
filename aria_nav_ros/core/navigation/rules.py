"""The cue rules as the README's table, written from config/navigation.yaml (the one place their numbers live).

python -m aria_nav_ros.core.navigation.rules      # prints the table; test_cue_rules checks the README holds it
"""

from __future__ import annotations

from aria_nav_ros.core.geometry import GeometryConfig
from aria_nav_ros.core.navigation.config import NavigationConfig

BEGIN = "<!-- cue rules: written by python -m aria_nav_ros.core.navigation.rules -->"
END = "<!-- end of cue rules -->"


def _n(value: float) -> str:
    return f"{value:g}"


def table(config: NavigationConfig) -> str:
    h, close = config["habituation"], config["close_range"]
    g = GeometryConfig()  # the wearer's-arm rule's defaults
    tiers, times = config["tiers"], config["time_to_contact"]
    person, car = tiers["default"], tiers.get("car", tiers["default"])
    ttc, ttc_car = times["default"], times.get("car", times["default"])
    first, growth, most = _n(h["first_repeat_s"]), float(h["growth"]), _n(h["max_repeat_s"])
    repeats = f"{first} s, then {_n(h['first_repeat_s'] * growth)} s, {_n(h['first_repeat_s'] * growth**2)} s ..."
    standing = _n(config["motion"]["standing_info_cooldown_factor"])
    per_object, global_s = _n(config["cooldown"]["per_object"]), _n(config["cooldown"]["global"])
    hazards = ", ".join(config["class_priority"])
    rows = [
        ("what is said", "when", "how often"),
        (
            "hazard classes only",
            f"{hazards}; a model's other classes (the person checkpoint's `Fall`) never",
            "-",
        ),
        (
            'what stands in the path: "Obstacle ahead, one meter"',
            "where a depth model runs, its map made metric by the floor the camera sees: the nearest thing "
            "standing in the walking corridor that no detector box holds (a wall, a pole, a door)",
            "as any hazard",
        ),
        (
            "urgency: info, warning, critical",
            f"by distance (people and things {_n(person['info'])} / {_n(person['warning'])} / "
            f"{_n(person['critical'])} m, vehicles {_n(car['info'])} / {_n(car['warning'])} / {_n(car['critical'])} m) "
            f"or time to contact ({_n(ttc['warning'])} / {_n(ttc['critical'])} s, vehicles {_n(ttc_car['warning'])} / "
            f"{_n(ttc_car['critical'])} s) within {_n(ttc['range_m'])} m (vehicles {_n(ttc_car['range_m'])} m), "
            "from the distance's speed (an obstacle's: the wearer's measured velocity towards it, where the glasses "
            "measure it) or, on a collision course (its bearing holds), from the box's growth "
            f"(size / growth rate over {_n(close['scale_window_s'])} s, within {_n(close['scale_range_m'])} m): "
            "also without a measured distance",
            f"a tier is left {_n(config['hysteresis_m'])} m beyond its line",
        ),
        (
            'a bound: "Careful! Person ahead, under one meter"',
            "the box reaches the image's lower edge (nearer than the ground that edge sees), or spans more "
            "than its class could from farther (a person filling most of the view: within reach); it counts "
            "as at least that close",
            "as any distance",
        ),
        ('a new object: "Person ahead, two meters"', "as soon as a cue slot is free", "once"),
        (
            "the same object, unchanged",
            "still there: same zone, no nearer, the wearer has not started to walk",
            f"again after {repeats} apart, at most {most} s (information cues while standing: x{standing})",
        ),
        (
            "the object changed",
            f"another zone (turned {_n(h['turn_deg'])} degrees), {_n(h['nearer_m'])} m or "
            f"{_n(100 * h['nearer_ratio'])} % nearer, or the wearer starts to walk",
            f"at once; at most every {per_object} s per object",
        ),
        (
            'a higher tier; critical: "Careful! ..."',
            "critical on its first frame (cutting a lesser cue; right after another critical one, following it); "
            f"a lesser tier once its distance holds {_n(h['steady_s'])} s; an object that backed off and comes back",
            f"at once; a critical object unchanged every {_n(close['critical_repeat_s'])} s",
        ),
        (
            "another of the class in the zone of a critical cue",
            f"within {_n(close['critical_repeat_s'])} s of it, no nearer than it said (by "
            f"{_n(config['hysteresis_m'])} m): one person a fisheye cuts into boxes in two cameras is one "
            '"Careful!"; a critical phrase names each zone once, at its nearest',
            "told by that cue; said when nearer",
        ),
        (
            'several of one class: "Two people, left and right, three meters"',
            "waiting at the same moment (the nearest distance said)",
            "one cue for all",
        ),
        (
            "a rise moments after a cue about the same object",
            f"within {_n(close['replace_within_s'])} s of it",
            "replaces it (cuts it): one sentence",
        ),
        (
            "the wearer's own hands and arms",
            "a person box coming up from the lower edge with its top far below the horizon "
            f"({_n(g.wearer_body_top_deg)} degrees, or too short to stand at its bound where that edge sees "
            f"the ground within {_n(g.wearer_body_reach_m)} m), or whose bound puts it beside the head (over "
            f"{_n(g.wearer_body_side_deg)} degrees out) within {_n(g.wearer_body_shoulder_m)} m of it, inside the "
            "wearer's own shoulder",
            "never",
        ),
        (
            "several hazards at once",
            "critical first, then one never said, then the one waiting longest, then the most pressing",
            f"one cue per {global_s} s; a more urgent one does not wait",
        ),
        (
            'the aid itself: "System ready", "Front camera lost / back / not working", "System paused / back", '
            '"Cameras lost / back", "Recording ended / failed / stopped", "Navigation stopped"',
            "when it happens (silence: after a timeout that follows the stream's pace); after the end of a "
            "replay no hazard cue",
            "once each; never holds back a hazard",
        ),
    ]
    lines = [f"| {' | '.join(row)} |" for row in rows]
    lines.insert(1, "| --- | --- | --- |")
    return "\n".join([BEGIN, *lines, END])


if __name__ == "__main__":
    print(table(NavigationConfig.load()))
