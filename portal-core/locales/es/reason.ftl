# What to fix: the validation and conflict messages a client can meet.

## Respuestas de cuestionarios (un mensaje por pregunta).
reason-form-changed = El formulario cambió desde que lo abrió. Vuelva a cargar la página e inténtelo de nuevo.
reason-answer-needed = Esta pregunta requiere una respuesta.
reason-answer-too-long = Use como máximo { $max } caracteres (este texto tiene { $count }).
reason-answer-bidi = Quite los caracteres invisibles de dirección del texto.
reason-answer-control = Quite los caracteres de control invisibles.
reason-answer-one-line = Escríbalo en una sola línea, sin caracteres de control.
reason-answer-pick-option = Elija una de las opciones mostradas.
reason-answer-single = Dé una sola respuesta.
reason-answer-rating = Elija un número entero del { $min } al { $max }.

## Campos de texto (comentarios, motivos, preguntas, nombres): una frase tras el nombre del campo.
reason-text-bidi = no debe contener caracteres de control de dirección del texto (U+202A–U+202E, U+2066–U+2069)
reason-text-empty = no puede quedar vacío
reason-text-too-long = debe tener como máximo { $max } caracteres
reason-text-one-line = no debe contener caracteres de control ni saltos de línea
reason-text-control = no debe contener caracteres de control
reason-time-zone = use el nombre de una zona horaria IANA, por ejemplo America/New_York o Europe/London

## El estado de una tarea impide la acción del cliente.
reason-task-blocked = Esta tarea está bloqueada ({ $why }). Su MSP la desbloqueará.
reason-task-blocked-no-reason = Esta tarea está bloqueada (sin motivo indicado). Su MSP la desbloqueará.
reason-task-already-complete = Esta tarea ya está completada.
reason-task-not-marked-complete = Esta tarea se completa entregando lo que solicita, no marcándola como completada.
reason-task-no-form = Esta tarea no tiene ningún formulario que completar.
reason-form-already-submitted = Este formulario ya se envió.
reason-task-no-checklist = Esta tarea no tiene lista de verificación.
reason-checklist-no-such-item = ese elemento de la lista ya no existe; vuelva a cargar la página
reason-item-already-checked = Ese elemento ya está marcado.
reason-item-not-checked = Ese elemento no está marcado.
reason-task-not-approval = Esta tarea no es una aprobación.
reason-approval-already-decided = Esta aprobación ya se decidió.

## Comentarios y preguntas.
reason-comment-empty = escriba algo antes de enviar
reason-question-empty = escriba su pregunta antes de enviarla
reason-question-not-on-team = no forma parte de su equipo de incorporación; elija a alguien de la lista

## "Pedir una nueva fecha límite" y "Estoy bloqueado".
reason-due-date-msp-task = Esta tarea la realiza su MSP: pregunte por su fecha en su conversación.
reason-due-date-pending = Ya pidió una nueva fecha límite para esta tarea: su MSP la responderá primero.
reason-due-date-past = elija hoy ({ $today }) o una fecha posterior
reason-due-date-same = esa ya es la fecha límite
reason-due-date-why = indique por qué necesita más tiempo, para que su MSP pueda decidir
reason-due-date-format = elija una fecha (año-mes-día, por ejemplo 2026-12-31)
reason-stuck-msp-task = Esta tarea la realiza su MSP: haga una pregunta en su conversación.
reason-stuck-on-hold = Esta tarea ya está en espera: su MSP la desbloqueará.
reason-stuck-already = Ya indicó que está bloqueado en esta tarea: su MSP le responderá aquí.
reason-stuck-why = indique qué le impide avanzar, para que su MSP pueda ayudarle

## Resumen de un formulario rechazado en la página de la tarea (portal-http) y nombres
## de los campos dentro de "Revise el campo …".
reason-fix-answers = Corrija { $count ->
        [one] la respuesta marcada
       *[other] las respuestas marcadas
    } a continuación. Sus respuestas se conservan.
reason-check-field = Revise el campo «{ $field }»: { $reason }.
reason-field-comment = comentario
reason-field-notes = notas
reason-field-item = elemento
reason-field-reason = motivo
reason-field-date = fecha
reason-field-note = nota
reason-field-to = destinatario
reason-field-other = formulario
reason-hand-off-choose = elija a un colega activo de este portal
reason-hand-off-check-form = No se traspasó nada: revise el formulario a continuación.
reason-stuck-check-reason = No se envió nada: revise el motivo a continuación.
reason-due-date-check-reason = No se pidió nada: revise el motivo a continuación.
reason-due-date-check-date = No se pidió nada: revise la fecha a continuación.

## Archivos subidos: una frase tras "El archivo".
reason-file-empty = está vacío (0 bytes): vuelva a elegir el archivo, es posible que no se haya guardado
reason-file-markup = es una página web o una imagen con marcado (HTML, SVG o XML), que no aceptamos porque un navegador la ejecutaría. Se aceptan: { $accepted }.
reason-file-unknown-type = no es un tipo de archivo que aceptemos. Se aceptan: { $accepted }.
reason-file-type-refused = es de tipo { $type }, que «{ $document }» no acepta. Se aceptan: { $accepted }.

## Archivos subidos y depositados rechazados (portal-http): el nombre del campo y el motivo.
reason-field-file = archivo
reason-field-upload = envío
reason-field-document = documento
reason-upload-refused = El { $field } { $reason }
reason-upload-too-large = El archivo supera los { $size } que acepta este documento. No se guardó nada: reduzca el tamaño del archivo y vuelva a subirlo.
reason-drop-refused = No se guardó nada: el { $field } { $reason }.
reason-drop-too-large = No se guardó nada: el archivo supera los { $size } permitidos para un archivo depositado.

## Aprobaciones.
reason-field-decision = decisión
reason-decision-choose = elija Aprobar o Rechazar

## Asumir una tarea, traspasarla a un colega, invitar a un colega.
reason-claim-client-tasks-only = solo las tareas del cliente se pueden asumir o traspasar
reason-claim-completed = la tarea ya está completada
reason-claim-assigned = la tarea ya está asignada; pida que se la traspasen
reason-hand-off-not-yours = solo una tarea asignada a usted se puede traspasar a un colega
reason-colleague-setting-changed = la configuración de invitaciones de colegas del portal cambió; inténtelo de nuevo

## Documentos y archivos depositados.
reason-task-no-documents = Esta tarea no solicita documentos.
reason-document-not-asked = no es uno de los que solicita esta tarea
reason-document-approved = Este documento ya se aprobó. Pregunte a su MSP si necesita reemplazarlo.
reason-task-no-drops = Esta tarea no admite archivos depositados.
reason-drop-downloaded = Su equipo de incorporación ya descargó «{ $name }» (el { $on }), por lo que ya no se puede eliminar.

## El cuerpo de un envío (portal-http): una frase tras "El archivo" o "El envío".
reason-upload-no-file = no se eligió: elija un archivo y vuelva a subirlo
reason-upload-unexpected = no se envió como lo envía el formulario del portal. No se guardó nada: súbalo desde la página de la tarea
reason-upload-several = contenía más de un archivo. No se guardó nada: suba un archivo por documento
reason-upload-dropped = no llegó completo: la conexión se cortó o fue demasiado lenta. No se guardó nada: inténtelo de nuevo
reason-upload-cut = no llegó completo: se interrumpió antes del final. No se guardó nada: inténtelo de nuevo
reason-upload-no-boundary = no se pudo leer: su Content-Type no indica ningún límite multipart. No se guardó nada: súbalo desde la página de la tarea
reason-upload-not-multipart = no se envió como una subida de archivo (multipart/form-data). No se guardó nada: súbalo desde la página de la tarea
reason-upload-malformed = no se pudo leer: no es una subida de archivo bien formada. No se guardó nada: súbalo desde la página de la tarea

## Firmas.
reason-typed-name-empty = está vacío: escriba su nombre completo o dibuje su firma
reason-typed-name-too-long = es demasiado largo: como máximo { $max } caracteres
reason-typed-name-control = contiene caracteres de control: escriba su nombre como texto sin formato
reason-consent-not-ticked = no está marcada: marque la casilla para aceptar que esta es su firma electrónica
reason-signature-document-changed = El documento que debe firmar cambió desde que se abrió esta página. No se firmó nada: vuelva a revisar el documento y luego fírmelo.
reason-task-no-signature = Esta tarea no solicita una firma.
reason-signature-refused-consent = No se firmó nada. La declaración de consentimiento { $reason }. Vuelva a firmar.
reason-signature-refused-typed-name = No se firmó nada. Su nombre escrito { $reason }. Vuelva a firmar.
reason-signature-refused-drawn = No se firmó nada. La firma dibujada { $reason }. Vuelva a firmar.

## Credenciales (los nombres de los campos van dentro de la frase).
reason-credential-too-long = es demasiado largo: como máximo { $kib } KiB
reason-credential-control = contiene caracteres de control: pegue el valor como texto sin formato
reason-credential-required = es obligatorio
reason-task-no-credentials = Esta tarea no solicita credenciales.
reason-field-username = nombre de usuario
reason-field-password = contraseña
reason-field-api-key = clave de API
reason-credentials-refused = No se envió nada. El campo «{ $field }» { $reason }. Vuelva a completar el formulario.

## Una tarea que espera a otras.
reason-task-waiting = Esta tarea está a la espera de: { $tasks }. Podrá realizarla cuando { $count ->
        [one] eso esté terminado
       *[other] todo eso esté terminado
    }.
reason-waiting-msp-step = un paso de { $msp }
reason-typed-name-blank = está vacío

## Una decisión que exige abrir antes los documentos compartidos.
reason-open-first = Abra el documento antes de decidir.

## No permitido (Error::Forbidden) donde un cliente puede encontrarlo: completa «No puede
## hacer eso: …» (en minúscula, sin punto final).

reason-forbidden-msp-task = esta tarea la realiza su MSP: puede seguirla, pero no modificarla
reason-forbidden-msp-only = solo su MSP puede hacerlo
reason-forbidden-approvals-client = las aprobaciones las decide el cliente
reason-forbidden-review = solo su MSP puede revisar documentos
reason-forbidden-due-client = solo un contacto del cliente puede pedir una nueva fecha límite
reason-forbidden-guest = los invitados participan solo en las tareas compartidas con ellos
reason-forbidden-stuck-client = solo un contacto del cliente puede indicar que está bloqueado
reason-forbidden-no-invites = este portal no permite que los contactos inviten a compañeros
reason-forbidden-contact-only = solo un contacto puede asumir o pasar una tarea
