// Browser side of a featurelab comm: a widget in the page asks the live kernel for data (e.g. a
// feature's dashboard, on click) and gets the reply; where there is no live kernel to ask — an
// exported HTML page, a kernel that is gone, a front end that gives page scripts no kernel — it
// returns false at once and the widget keeps to the data embedded in the page.
// The kernel side registers the target (src/display/core/kernel.ts: registerCommTarget(name, handler));
// the handler gets the request as the comm's open data and answers with comm.send(reply).
// Inlined into a widget's HTML like plotly-figure.js; no imports.
function featurelabKernelRequest(target, request, onReply, timeoutMs) {
  var kernel = null;
  try {
    // The classic notebook (and nbclassic) gives page scripts its kernel and comm manager.
    var nb = window.Jupyter && window.Jupyter.notebook;
    var k = nb && nb.kernel;
    if (k && k.comm_manager && (typeof k.is_connected !== "function" || k.is_connected())) kernel = k;
  } catch (e) {}
  if (!kernel) return false;
  var done = false;
  var comm;
  try {
    comm = kernel.comm_manager.new_comm(target, request);
  } catch (e) {
    return false;
  }
  var timer = setTimeout(function () {
    if (done) return;
    done = true;
    try {
      comm.close();
    } catch (e) {}
    onReply(null, "the kernel did not answer");
  }, timeoutMs || 10000);
  comm.on_msg(function (msg) {
    if (done) return;
    done = true;
    clearTimeout(timer);
    onReply(msg.content.data, null, msg.buffers || []);
    try {
      comm.close();
    } catch (e) {}
  });
  if (typeof comm.on_close === "function") {
    comm.on_close(function () {
      if (done) return;
      done = true;
      clearTimeout(timer);
      onReply(null, "the kernel closed the comm (no such target?)");
    });
  }
  return true;
}
