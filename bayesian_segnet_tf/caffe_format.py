"""Reading (and, for tests, writing) caffe-segnet's `.prototxt` and `.caffemodel`.

Caffe itself is not needed. A `.caffemodel` is a binary `NetParameter`
protobuf; the few messages that hold weights are declared here with the
field numbers of caffe-segnet's `src/caffe/proto/caffe.proto` and compiled
at import with `google.protobuf` (fields this module does not declare, e.g.
`convolution_param`, are skipped when parsing). A `.prototxt` is protobuf
text; `parse_prototxt` reads it into nested dicts without a schema.

Field numbers (caffe.proto):
    NetParameter: name 1, layers 2 (V1), input 3, input_dim 4,
        input_shape 8, layer 100.
    LayerParameter: name 1, type 2, bottom 3, top 4, blobs 7.
    V1LayerParameter (the pre-2015 `layers` form): bottom 2, top 3, name 4,
        type 5 (enum), blobs 6.
    BlobProto: num 1, channels 2, height 3, width 4, data 5 (packed float),
        shape 7; BlobShape: dim 1 (packed int64).
"""

import functools
import re

import numpy as np
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

_FIELD = descriptor_pb2.FieldDescriptorProto
# message -> [(field name, number, type, label, message type or None)].
_MESSAGES = {
    "BlobShape": [("dim", 1, _FIELD.TYPE_INT64, "repeated", None)],
    "BlobProto": [("num", 1, _FIELD.TYPE_INT32, "optional", None),
                  ("channels", 2, _FIELD.TYPE_INT32, "optional", None),
                  ("height", 3, _FIELD.TYPE_INT32, "optional", None),
                  ("width", 4, _FIELD.TYPE_INT32, "optional", None),
                  ("data", 5, _FIELD.TYPE_FLOAT, "repeated", None),
                  ("shape", 7, _FIELD.TYPE_MESSAGE, "optional", "BlobShape")],
    "LayerParameter": [
        ("name", 1, _FIELD.TYPE_STRING, "optional", None),
        ("type", 2, _FIELD.TYPE_STRING, "optional", None),
        ("bottom", 3, _FIELD.TYPE_STRING, "repeated", None),
        ("top", 4, _FIELD.TYPE_STRING, "repeated", None),
        ("blobs", 7, _FIELD.TYPE_MESSAGE, "repeated", "BlobProto")],
    "V1LayerParameter": [
        ("bottom", 2, _FIELD.TYPE_STRING, "repeated", None),
        ("top", 3, _FIELD.TYPE_STRING, "repeated", None),
        ("name", 4, _FIELD.TYPE_STRING, "optional", None),
        ("blobs", 6, _FIELD.TYPE_MESSAGE, "repeated", "BlobProto")],
    "NetParameter": [
        ("name", 1, _FIELD.TYPE_STRING, "optional", None),
        ("layers", 2, _FIELD.TYPE_MESSAGE, "repeated", "V1LayerParameter"),
        ("layer", 100, _FIELD.TYPE_MESSAGE, "repeated", "LayerParameter")],
}


class CaffeFormatError(ValueError):
    """A prototxt or caffemodel that cannot be read; the message names the
    file position or layer."""


@functools.lru_cache(maxsize=None)
def _net_parameter_class():
    """The `NetParameter` message class of the subset above."""
    proto = descriptor_pb2.FileDescriptorProto(
        name="segnet_caffe_subset.proto", package="caffe", syntax="proto2")
    for name, fields in _MESSAGES.items():
        message = proto.message_type.add(name=name)
        for field, number, kind, label, type_name in fields:
            entry = message.field.add(
                name=field, number=number, type=kind,
                label=(_FIELD.LABEL_REPEATED if label == "repeated"
                       else _FIELD.LABEL_OPTIONAL))
            if type_name:
                entry.type_name = f".caffe.{type_name}"
            if label == "repeated" and kind != _FIELD.TYPE_MESSAGE and (
                    kind != _FIELD.TYPE_STRING):
                entry.options.packed = True
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    return message_factory.GetMessageClass(
        pool.FindMessageTypeByName("caffe.NetParameter"))


def _blob_array(blob):
    """BlobProto -> float32 array in its stored (N, C, H, W)-style shape."""
    if blob.HasField("shape"):
        shape = tuple(blob.shape.dim)
    else:  # legacy 4-d form
        shape = (blob.num, blob.channels, blob.height, blob.width)
    data = np.asarray(blob.data, np.float32)
    if data.size != int(np.prod(shape)):
        raise CaffeFormatError(f"a blob of shape {shape} holds {data.size} "
                               "values")
    return data.reshape(shape)


def read_caffemodel(path):
    """The weights of a `.caffemodel`.

    Args:
        path: the binary NetParameter file.

    Returns:
        dict layer name -> list of float32 arrays (Convolution: weights
        (O, I, kh, kw), bias (O,); caffe-segnet BN: scale, shift (1, C, 1, 1)),
        for the layers that hold blobs.

    Raises:
        CaffeFormatError: not a NetParameter, or a blob of the wrong size
            (the message names the layer).
    """
    with open(path, "rb") as f:
        data = f.read()
    net = _net_parameter_class()()
    try:
        net.ParseFromString(data)
    except Exception as error:  # protobuf's DecodeError
        raise CaffeFormatError(f"not a Caffe NetParameter ({error})") from None
    weights = {}
    for layer in list(net.layer) + list(net.layers):
        if layer.blobs:
            try:
                weights[layer.name] = [_blob_array(b) for b in layer.blobs]
            except CaffeFormatError as error:
                raise CaffeFormatError(f"layer {layer.name}: {error}") from None
    if not net.layer and not net.layers:
        raise CaffeFormatError("no layers: not a Caffe NetParameter")
    return weights


def caffemodel_bytes(layers, name="segnet"):
    """A serialized `.caffemodel` (what Caffe's `Net::ToProto` writes).

    Args:
        layers: list of (name, type, list of arrays) in network order.
        name: the net's name.

    Returns:
        bytes.
    """
    net = _net_parameter_class()(name=name)
    for layer_name, layer_type, blobs in layers:
        layer = net.layer.add(name=layer_name, type=layer_type)
        for array in blobs:
            array = np.asarray(array, np.float32)
            blob = layer.blobs.add()
            blob.shape.dim.extend(array.shape)
            blob.data.extend(array.ravel().tolist())
    return net.SerializeToString()


_TOKEN = re.compile(r'\s+|#[^\n]*|(?P<str>"(?:[^"\\]|\\.)*"|\'[^\']*\')|'
                    r'(?P<punct>[{}:])|(?P<word>[^\s{}:#"\']+)')


def _tokens(text):
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match:
            line = text.count("\n", 0, position) + 1
            raise CaffeFormatError(f"line {line}: cannot read "
                                   f"{text[position:position + 20]!r}")
        kind = match.lastgroup
        if kind:
            line = text.count("\n", 0, position) + 1
            yield kind, match.group(kind), line
        position = match.end()


def _scalar(kind, value):
    if kind == "str":
        return value[1:-1]
    if value in ("true", "false"):
        return value == "true"
    try:
        return int(value)
    except ValueError:
        pass
    try:
        return float(value)
    except ValueError:
        return value  # an enum name, e.g. MAX or INFERENCE


def parse_prototxt(text):
    """Protobuf text format -> nested dicts, without a schema.

    Args:
        text: the contents of a `.prototxt`.

    Returns:
        dict field name -> list of values (str, int, float, bool, an enum
        name as str, or a nested dict of the same form), in file order.

    Raises:
        CaffeFormatError: malformed text (the message gives the line).
    """
    stack = [{}]
    tokens = _tokens(text)
    for kind, value, line in tokens:
        if kind == "punct" and value == "}":
            if len(stack) == 1:
                raise CaffeFormatError(f"line {line}: unmatched '}}'")
            stack.pop()
            continue
        if kind != "word":
            raise CaffeFormatError(f"line {line}: expected a field name, got "
                                   f"{value!r}")
        kind2, value2, _ = next(tokens, (None, None, line))
        if value2 == ":":
            kind2, value2, _ = next(tokens, (None, None, line))
        if value2 == "{":
            child = {}
            stack[-1].setdefault(value, []).append(child)
            stack.append(child)
        elif kind2 in ("str", "word"):
            stack[-1].setdefault(value, []).append(_scalar(kind2, value2))
        else:
            raise CaffeFormatError(f"line {line}: field {value} has no value")
    if len(stack) != 1:
        raise CaffeFormatError("unexpected end of file: a '{' is not closed")
    return stack[0]


def field(message, name, default=None):
    """The last value of `name` in a parsed message (protobuf's rule for a
    repeated optional field), or `default`."""
    values = message.get(name)
    return values[-1] if values else default
