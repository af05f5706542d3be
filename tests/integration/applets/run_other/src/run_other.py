import dxpy


@dxpy.entry_point("main")
def main(applet, detach=False):
    child = dxpy.DXApplet(applet).run({"who": "child"}, detach=detach)
    if detach:
        return {"child": child.get_id()}
    return {"child": child.get_id(), "greeting": child.get_output_ref("greeting")}


dxpy.run()
