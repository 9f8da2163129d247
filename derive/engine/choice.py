"""The user's choice of neuron: an activation and its losses, by name, checked.

``choose`` turns names (from the command line, say) into registry entries, or raises
``InvalidChoice`` with a message that says what is valid and why a pair is not.
"""

from derive.engine.registry import ACTIVATIONS, LOSSES, default_losses, valid_losses
from derive.engine.softmax import VECTOR_ACTIVATIONS, VECTOR_LOSSES
from derive.engine.text import text


class InvalidChoice(ValueError):
    """An unknown name or an activation–loss pair that cannot be combined."""


def choose(activation_name, loss_names=None):
    """(activation, losses) for a valid choice; InvalidChoice says what is valid."""
    if activation_name in VECTOR_ACTIVATIONS:
        return _choose_vector(VECTOR_ACTIVATIONS[activation_name], loss_names)
    if activation_name not in ACTIVATIONS:
        raise InvalidChoice(f"unknown activation {activation_name!r}; choose one of: "
                            f"{', '.join([*ACTIVATIONS, *VECTOR_ACTIVATIONS])}")
    act = ACTIVATIONS[activation_name]
    names = tuple(loss_names) if loss_names else default_losses(act)
    valid = valid_losses(act)
    for name in names:
        if name in VECTOR_LOSSES and name not in LOSSES:
            raise InvalidChoice(
                f"the {VECTOR_LOSSES[name].title} ({name}) needs K class outputs, such as "
                f"softmax's; {act.name} gives one number; valid losses for {act.name}: "
                f"{', '.join(valid)}")
        if name not in LOSSES:
            raise InvalidChoice(f"unknown loss {name!r}; choose one of: {', '.join(LOSSES)}")
        if name not in valid:
            needs, takes = text(LOSSES[name].requires), text(act.output_range)
            raise InvalidChoice(
                f"the {LOSSES[name].title} ({name}) needs a in {needs}, but {act.name} takes "
                f"values in {takes}; valid losses for {act.name}: {', '.join(valid)}")
    if len(set(names)) != len(names):
        raise InvalidChoice(f"a loss is named twice: {','.join(names)}")
    return act, tuple(LOSSES[name] for name in names)


def _choose_vector(act, loss_names):
    """(activation, losses) for a vector activation: every vector loss is valid."""
    names = tuple(loss_names) if loss_names else act.default_losses
    valid = ", ".join(VECTOR_LOSSES)
    for name in names:
        if name not in VECTOR_LOSSES:
            known = f"the {LOSSES[name].title} ({name}) needs one output a, but {act.name} " \
                f"gives K class probabilities in {act.output_range}" if name in LOSSES \
                else f"unknown loss {name!r}"
            raise InvalidChoice(f"{known}; valid losses for {act.name}: {valid}")
    if len(set(names)) != len(names):
        raise InvalidChoice(f"a loss is named twice: {','.join(names)}")
    return act, tuple(VECTOR_LOSSES[name] for name in names)
