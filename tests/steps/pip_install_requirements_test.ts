import assert from "node:assert/strict";
import { pip_install_requirements } from "../../src/steps/pip_install_requirements.ts";
import { createContext, tempDir } from "./_helpers.ts";

const PIP_ENV = {
  PIP_DISABLE_PIP_VERSION_CHECK: "1",
  PIP_NO_INPUT: "1",
  PIP_NO_INDEX: "1",
  // Debian's python3 refuses any install outside a virtual environment (PEP 668); the test
  // installs nothing, so allowing it changes nothing on the machine.
  PIP_BREAK_SYSTEM_PACKAGES: "1",
};
const pipAvailable = await new Deno.Command("python3", {
  args: ["-m", "pip", "--version"],
  stdout: "null",
  stderr: "null",
}).output().then((output) => output.success, () => false);

Deno.test({
  name:
    "pip_install_requirements() runs pip through python3 on the requirements file",
  // Needs python3 with pip; the missing-python3 case is covered below.
  ignore: !pipAvailable,
  async fn() {
    await using dir = await tempDir();
    await Deno.writeTextFile(
      `${dir.path}/requirements.txt`,
      "# nothing to install\n",
    );
    const context = createContext(dir.path, PIP_ENV);
    const result = await pip_install_requirements(
      { stream_output: false },
      context,
    );
    assert.deepEqual(Object.keys(result).sort(), ["stderr", "stdout"]);
    await Deno.writeTextFile(
      `${dir.path}/bad.txt`,
      "this is not a requirement ===\n",
    );
    await assert.rejects(
      pip_install_requirements({ requirements_file: "bad.txt" }, context),
      (error: Error & { exitCode: number; stderr: string }) => {
        assert.match(
          error.message,
          /^pip_install_requirements failed with error code [1-9]\d*: /,
        );
        assert.match(error.stderr, /bad\.txt|requirement/i);
        assert.equal(context.chunks.some((c) => c.stream === "stderr"), true);
        return true;
      },
    );
  },
});

Deno.test("pip_install_requirements() says so clearly when python3 is missing", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(`${dir.path}/requirements.txt`, "");
  const context = createContext(dir.path, { PATH: `${dir.path}/empty-bin` });
  await assert.rejects(
    pip_install_requirements({}, context),
    {
      message:
        `Cannot run pip_install_requirements: "python3" was not found on the PATH of the run's environment; install Python 3 with pip, or remove this step`,
    },
  );
  await assert.rejects(
    pip_install_requirements({ requirements_file: "other.txt" }, context),
    {
      message:
        `Cannot run pip_install_requirements: requirements file "other.txt" was not found in "${dir.path}"; create it or fix "requirements_file" and "directory"`,
    },
  );
});
