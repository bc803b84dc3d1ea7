"use client";
import { useEffect, useState } from "react";

// Calls installFinish() through the real B24Frame once the install succeeded on the server. Without it the portal
// keeps the app "not fully installed": no events, no widgets (b24jssdk #336, #377). One SDK instance, never
// destroyed (React StrictMode mounts effects twice; a destroyed frame cannot be re-created).
let finishing: Promise<void> | null = null;

function finishOnce(): Promise<void> {
  finishing ??= import("@bitrix24/b24jssdk").then(async ({ initializeB24Frame }) => {
    const $b24 = await initializeB24Frame();
    // After installFinish the portal reloads the frame with install_finished=Y: the install is then already
    // finished, and calling installFinish again would be refused (JSSDK_FRAME_INSTALL_ALREADY_FINISHED).
    if ($b24.isInstallMode) await $b24.installFinish();
  });
  return finishing;
}

export function InstallFinish({ doneText, failedText }: { doneText: string; failedText: string }) {
  const [state, setState] = useState<"working" | "done" | "failed">("working");
  useEffect(() => {
    finishOnce().then(
      () => setState("done"),
      () => setState("failed"),
    );
  }, []);
  return (
    <p role="status" data-state={state}>
      {state === "done" ? doneText : state === "failed" ? failedText : "…"}
    </p>
  );
}
