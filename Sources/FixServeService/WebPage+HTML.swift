extension WebPage {
    /// `{{…}}` placeholders are filled in by `html`.
    static let htmlTemplate = #"""
<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>FixServe</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="{{stylesheet}}">
  <script src="{{script}}" defer></script>
</head>
<body>
  <a class="skip" href="#main">Skip to content</a>
  <header>
    <h1>FixServe</h1>
    <p class="tagline">Image classifiers whose last layer is fixed: only its scale α and bias are learned.</p>
    <form id="key-form" class="key" autocomplete="off">
      <label for="api-key">API key <span class="hint">(only if the server asks for one)</span></label>
      <input id="api-key" name="api-key" type="password" spellcheck="false" autocomplete="off">
    </form>
  </header>
  <main id="main">
    <section aria-labelledby="models-title">
      <div class="section-head">
        <h2 id="models-title">Models</h2>
        <button type="button" id="refresh-models">Refresh</button>
      </div>
      <p id="models-status" class="status" role="status"></p>
      <div class="scroll" role="region" aria-labelledby="models-title" tabindex="0">
        <table id="models">
          <caption class="visually-hidden">Models, their versions and their heads</caption>
          <thead>
            <tr>
              <th scope="col">Model</th>
              <th scope="col">Versions</th>
              <th scope="col">Head</th>
              <th scope="col"><abbr title="the scale of the logits">α</abbr></th>
              <th scope="col"><abbr title="largest |cosine| between two class vectors of the fixed matrix">Coherence</abbr></th>
              <th scope="col">Parameters</th>
              <th scope="col">Head bytes saved</th>
              <th scope="col">Test accuracy</th>
            </tr>
          </thead>
          <tbody></tbody>
        </table>
      </div>
    </section>

    <section aria-labelledby="classify-title">
      <h2 id="classify-title">Classify an image</h2>
      <form id="classify-form">
        <div class="field">
          <label for="classify-model">Model</label>
          <select id="classify-model" name="model" required></select>
        </div>
        <label id="drop-zone" class="drop" for="image-file">
          <span>Drop a PNG or JPEG here, or <span class="link">choose a file</span></span>
          <input id="image-file" name="image" type="file" accept="image/png,image/jpeg">
        </label>
      </form>
      <p id="classify-status" class="status" role="status"></p>
      <div id="prediction" class="prediction" hidden>
        <figure>
          <img id="prediction-image" alt="">
          <figcaption id="prediction-caption"></figcaption>
        </figure>
        <ol id="prediction-bars" class="bars" aria-label="Top 5 classes"></ol>
      </div>
    </section>

    <section aria-labelledby="train-title">
      <h2 id="train-title">Train a model</h2>
      <form id="train-form" class="grid">
        <div class="field">
          <label for="train-model">Model name</label>
          <input id="train-model" name="model" required maxlength="64" pattern="[A-Za-z0-9_\-][A-Za-z0-9_.\-]*"
                 value="my-model" aria-describedby="train-model-hint">
          <span id="train-model-hint" class="hint">Letters, digits, - _ . ; stored as a new version</span>
        </div>
        <div class="field">
          <label for="train-backbone">Backbone</label>
          <select id="train-backbone" name="backbone">
              {{backbones}}
          </select>
        </div>
        <div class="field">
          <label for="train-head">Head</label>
          <select id="train-head" name="head">
              {{heads}}
          </select>
        </div>
        <div class="field">
          <label for="train-epochs">Epochs</label>
          <input id="train-epochs" name="epochs" type="number" min="1" max="1000" step="1" value="{{epochs}}" required>
        </div>
        <div class="field">
          <label for="train-limit">Training images</label>
          <input id="train-limit" name="training_limit" type="number" min="1" step="1" placeholder="all"
                 aria-describedby="train-limit-hint">
          <span id="train-limit-hint" class="hint">Fewer images train faster</span>
        </div>
        <div class="actions">
          <button type="submit" id="train-submit">Start training</button>
        </div>
      </form>
      <p id="train-status" class="status" role="status" aria-live="polite"></p>
      <div class="charts">
        <figure>
          <canvas id="loss-chart" width="480" height="220" role="img" aria-label="Training loss: no data yet"></canvas>
          <figcaption>Training loss by epoch</figcaption>
        </figure>
        <figure>
          <canvas id="accuracy-chart" width="480" height="220" role="img" aria-label="Accuracy: no data yet"></canvas>
          <figcaption>Accuracy by epoch: <span class="key-train">training</span>, <span class="key-test">test</span></figcaption>
        </figure>
      </div>
    </section>

    <section aria-labelledby="jobs-title">
      <div class="section-head">
        <h2 id="jobs-title">Training jobs</h2>
        <button type="button" id="refresh-jobs">Refresh</button>
      </div>
      <p id="jobs-status" class="status" role="status"></p>
      <div class="scroll" role="region" aria-labelledby="jobs-title" tabindex="0">
        <table id="jobs">
          <caption class="visually-hidden">Training jobs, oldest first</caption>
          <thead>
            <tr>
              <th scope="col">Job</th>
              <th scope="col">Model</th>
              <th scope="col">Head</th>
              <th scope="col">State</th>
              <th scope="col">Progress</th>
              <th scope="col">Result</th>
              <th scope="col"><span class="visually-hidden">Actions</span></th>
            </tr>
          </thead>
          <tbody></tbody>
        </table>
      </div>
    </section>
  </main>
  <footer>
    <p>The API is described in <code>openapi.yaml</code>; readiness at <a href="/v2/health/ready">/v2/health/ready</a>,
       metrics at <a href="/metrics">/metrics</a>.</p>
  </footer>
</body>
</html>
"""#
}
