"""Rank two items for a user, report a click, and see the model learn it.
Stubs: protoc --proto_path=proto --python_out=gen --grpc_out=gen \
         --plugin=protoc-gen-grpc=/usr/bin/grpc_python_plugin proto/streamrec/v1/*.proto
Run:   PYTHONPATH=gen /usr/bin/python3 examples/python/quickstart.py [localhost:50051]"""
import sys, time, uuid
import grpc
from streamrec.v1 import streamrec_pb2 as pb, streamrec_pb2_grpc

channel = grpc.insecure_channel(sys.argv[1] if len(sys.argv) > 1 else "localhost:50051")
rec = streamrec_pb2_grpc.RecommenderStub(channel)
context = pb.Features(values={"user": pb.FeatureValue(category="u42"),
                              "hour": pb.FeatureValue(number=0.75)})  # scaled to [0, 1]
request = pb.PredictRequest(context=context, candidates=[pb.Item(id="m1"), pb.Item(id="m2")])
before = rec.Predict(request, timeout=0.2)  # a deadline on every call
print("before:", [(i.id, round(i.score, 3)) for i in before.items])
shown = [pb.Event(context=context, item=pb.Item(id=item), label=label,  # m2 was clicked
                  event_id=str(uuid.uuid4()))  # ids make a retried Observe safe
         for _ in range(20) for item, label in (("m1", 0), ("m2", 1))]  # every impression
rec.Observe(pb.ObserveRequest(events=shown), timeout=2)
time.sleep(0.5)  # the updater publishes within milliseconds
after = rec.Predict(request, timeout=0.2)
print("after: ", [(i.id, round(i.score, 3)) for i in after.items])
